"""Integration tests against moto's DynamoDB Streams server."""
