# Django's Russian formats plus the time zone ("T").
DATETIME_FORMAT = "j E Y г. G:i T"
SHORT_DATETIME_FORMAT = "d.m.Y H:i T"
