"""spinepath: decision support for minimally invasive treatment of nerve-compression pain."""
