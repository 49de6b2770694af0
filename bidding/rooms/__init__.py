"""Live rooms: numbered stored events per room, followed over one websocket shell (the opening hall; scoring next)."""
