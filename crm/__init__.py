"""Customers, tickets, call logs on tickets, departments and callbacks."""
