"""Host side of the bench: transports over real client libraries, the codec, the driver."""
