"""Reports: CSV, HTML, dashboards, explorer, the notebook batch, the Excel workbook."""
