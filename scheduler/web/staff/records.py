"""Data requests (GDPR), the audit log and the office's calendar feed URL."""
