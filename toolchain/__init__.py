"""fitml: compile trained models for microcontrollers."""
