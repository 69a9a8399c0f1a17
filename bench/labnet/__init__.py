"""The lab network: the bench as the machine's network (namespaces, DNS, interception, places)."""
