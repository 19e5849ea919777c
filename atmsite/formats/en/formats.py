# Django's English formats plus the time zone ("T"): staff compare times with kiosk logs and other branches.
DATETIME_FORMAT = "N j, Y, H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
