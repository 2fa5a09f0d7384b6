"""Roster's own date formats (settings.FORMAT_MODULE_PATH), where Django's differ."""
