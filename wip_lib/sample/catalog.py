"""Names the sample company draws from: CSI cost codes, trades, vendors, owners, projects."""
from __future__ import annotations

# (Procore cost code, description, cost type, trade)
COST_CODES = [
    ("01-310", "Project Management", "L", None),
    ("01-500", "Temporary Facilities", "O", None),
    ("01-540", "Equipment Rental", "E", None),
    ("01-740", "Cleaning", "L", None),
    ("02-200", "Site Clearing", "S", "sitework"),
    ("02-300", "Earthwork", "S", "sitework"),
    ("03-100", "Concrete Forming", "L", None),
    ("03-200", "Concrete Reinforcing", "M", "rebar"),
    ("03-300", "Cast-in-Place Concrete", "S", "concrete"),
    ("04-200", "Unit Masonry", "S", "masonry"),
    ("05-100", "Structural Steel", "S", "steel"),
    ("05-500", "Metal Fabrications", "M", "steel"),
    ("06-100", "Rough Carpentry", "L", None),
    ("06-200", "Finish Carpentry", "M", "lumber"),
    ("07-200", "Insulation", "S", "insulation"),
    ("07-500", "Membrane Roofing", "S", "roofing"),
    ("08-100", "Doors and Frames", "M", "doors"),
    ("08-400", "Storefronts and Curtain Wall", "S", "glazing"),
    ("09-200", "Gypsum Board", "S", "drywall"),
    ("09-300", "Tiling", "S", "flooring"),
    ("09-900", "Painting", "S", "painting"),
    ("10-100", "Specialties", "M", "specialties"),
    ("21-100", "Fire Suppression", "S", "fire"),
    ("22-100", "Plumbing", "S", "plumbing"),
    ("23-100", "HVAC", "S", "mechanical"),
    ("26-100", "Electrical", "S", "electrical"),
    ("31-200", "Grading", "E", None),
    ("32-100", "Paving", "S", "paving"),
]
DEFAULT_ERP_CODE = ("99-999", "Unassigned")
# Where the ERP's code differs from Procore's: the crosswalk carries these.
ERP_CODE_DIFFERENCES = {"02-200": "02-210", "31-200": "31-210"}

VENDORS = {
    "sitework": ["Granite Ridge Excavating", "Valley Earthmovers LLC"],
    "concrete": ["Apex Concrete, Inc.", "Stonebridge Concrete Co."],
    "rebar": ["Pacific Rebar Supply"],
    "masonry": ["Brick & Block Masonry"],
    "steel": ["Ironclad Steel Erectors", "Meridian Metals"],
    "lumber": ["Cedar Lane Lumber"],
    "insulation": ["ThermoShield Insulation"],
    "roofing": ["Summit Roofing Co."],
    "doors": ["Northgate Door & Hardware"],
    "glazing": ["ClearView Glass & Glazing"],
    "drywall": ["Precision Drywall Inc.", "Westside Interiors"],
    "flooring": ["Tile Masters of Oregon"],
    "painting": ["Brushstroke Painting"],
    "specialties": ["Bayline Specialties"],
    "fire": ["Firestop Sprinkler Co."],
    "plumbing": ["Cascade Plumbing", "Riverbend Mechanical Plumbing"],
    "mechanical": ["Airflow Mechanical Inc.", "Evergreen HVAC"],
    "electrical": ["Bright Spark Electric", "Voltage Electrical Contractors"],
    "paving": ["Blacktop Paving Co."],
    "equipment": ["United Rentals #2241", "Sunbelt Rentals"],
    "supplies": ["Home Depot Pro", "Fastenal"],
}
OWNERS = ["Riverside School District", "City of Port Ashby", "Northwind Health Partners",
          "Harborview Properties LLC", "Cascade County", "Meridian Retail Group",
          "St. Anne's Medical Center", "Oakridge Apartments LP", "Pacific Logistics REIT",
          "State Department of Transportation", "Evergreen University", "Blue Heron Hotels"]
PROJECT_NAMES = [
    "Riverside Elementary Modernization", "Port Ashby Fire Station 4", "Northwind Clinic Fit-Out",
    "Harborview Tower Podium", "Cascade County Jail Annex", "Meridian Plaza Retail Shell",
    "St. Anne's Imaging Wing", "Oakridge Apartments Phase 2", "Pacific Logistics Warehouse B",
    "Route 9 Maintenance Yard", "Evergreen Science Hall", "Blue Heron Hotel Renovation",
    "Lakeside Library Expansion", "Mill Creek Water Treatment Building", "Union Street Lofts",
    "Airport Parking Structure", "Westgate Community Center", "Bayfront Medical Office Building",
    "Pine Hollow Middle School Gym", "Cedar Point Senior Living", "Granite Falls City Hall",
    "Harbor Freight Distribution Dock", "Elm Street Parking Lot Paving", "Southside Transit Center",
    "Maple Ridge Dental Office", "Courthouse ADA Upgrades", "North Campus Dormitory",
    "Fairview Bank Branch", "Stadium Concourse Refresh", "Brookside Fire Training Tower",
    "Quarry Road Bridge Deck", "Tech Park Data Hall",
]
PMS = ["Dana Whitfield", "Marcus Oyelaran", "Priya Raman", "Tom Castellano", "Elena Sokolova"]
