"""The kiosk page the packer sees, and the buzzer/LED patterns."""
