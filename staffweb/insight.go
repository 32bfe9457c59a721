package staffweb

// insightRoutes are the routes of search, figures, the audit trail and the account's own settings.
func insightRoutes() []Route { return nil }
