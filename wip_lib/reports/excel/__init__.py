"""The Excel WIP workbook: cell helpers and one module per sheet."""
