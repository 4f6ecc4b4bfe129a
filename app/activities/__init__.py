"""Activities: sends, opens, clicks and custom events of contacts."""
