"""The Jura family: machines driven over their service-port UART.

``wire`` is the obfuscated byte format (four wire bytes per payload byte),
``lines`` splits decoded bytes into the CR LF command lines, ``answers`` parses
the machine's replies into named fields, ``connection`` runs commands over any
transport and ``machine`` maps the bench's actions onto Jura commands.
``catalogue`` says which data category each parsed field carries.
"""
