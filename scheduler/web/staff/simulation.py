"""What-if: the recorded demand of an office under its hours and under proposed hours."""
