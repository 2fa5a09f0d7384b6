# Full month names and a 24-hour clock in emails: "December 5, 2026, 14:00".
DATETIME_FORMAT = "F j, Y, H:i"
