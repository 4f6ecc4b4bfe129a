"""Commerce: the contact cart and orders."""
