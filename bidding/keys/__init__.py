"""Keys people register: the public halves of their key files."""
