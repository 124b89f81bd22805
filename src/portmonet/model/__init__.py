"""The persistent domain model: folders, subscribers, contracts, services, staff."""
