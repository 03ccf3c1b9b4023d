"""The websocket close codes the desk's sockets use (docs/protocol.md, "Close codes").

Only 1000 and 3000-4999 may be sent by an application: Daphne's websocket library
(autobahn) raises on any other code (1011 included) and the socket then stays open,
so every close here is in our private range 4000-4999, echoing an HTTP status."""

CLOSE_UNAUTHENTICATED = 4401  # no session, or it ended
CLOSE_FORBIDDEN = 4403  # wrong Origin, or a token that opens no chat
CLOSE_HELLO_TIMEOUT = 4408  # the patron socket said no hello in time
CLOSE_TOO_MANY_SOCKETS = 4429  # this address already holds its limit of open sockets
CLOSE_SERVER_ERROR = 4500  # an unexpected failure; the client reconnects and resumes
