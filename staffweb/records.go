package staffweb

// recordRoutes are the routes of incidents, acts, people, places and parties, and triage of a submission into an incident.
func recordRoutes() []Route { return nil }
