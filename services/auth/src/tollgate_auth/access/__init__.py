"""Who may do what in a team: the role table (:mod:`.permissions`) and the caller's role, read
from the database, checked against it (:mod:`.service`) — the first step of every admin call."""
