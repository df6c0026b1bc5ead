"""The Discord layer's features, one discord.py extension each; they only translate to and from the core."""
