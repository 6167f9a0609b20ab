"""The name cron jobs used before every email went through the outbox: `send_emails`."""

from services.management.commands.send_emails import Command as SendEmails


class Command(SendEmails):
    help = f"Another name for send_emails. {SendEmails.help}"
