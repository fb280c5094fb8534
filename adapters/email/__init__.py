"""Email: SMTP sending (aiosmtplib), the brief and confirmation mails, the email Messenger."""
