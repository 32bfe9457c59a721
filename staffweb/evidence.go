package staffweb

// evidenceRoutes are the routes of sources, claims and the evidence vault.
func evidenceRoutes() []Route { return nil }
