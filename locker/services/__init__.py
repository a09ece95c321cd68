"""The use cases. Each takes plain values, returns frozen results, never prints."""
