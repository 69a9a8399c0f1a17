"""An emulated Jura machine: the service-port protocol with its obfuscated wire format."""
