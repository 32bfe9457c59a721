package staffweb

import (
	"net/http"
	"sync"
)

// insightRoutes are the routes of search, figures, the audit trail and the account's own settings.
func insightRoutes() []Route {
	h := func(f func(*Server) http.HandlerFunc) func(*Server) http.HandlerFunc { return f }
	return []Route{
		{"GET", "/search", Staff, readers, false, h(func(s *Server) http.HandlerFunc { return s.searchPage })},
		{"POST", "/search", Staff, readers, false, h(func(s *Server) http.HandlerFunc { return s.searchPost })},
		{"GET", "/figures", Staff, readers, false, h(func(s *Server) http.HandlerFunc { return s.figuresPage })},
		{"GET", "/audit", Staff, admins, false, h(func(s *Server) http.HandlerFunc { return s.auditPage })},
		{"GET", "/account", Staff, anyStaff, false, h(func(s *Server) http.HandlerFunc { return s.accountPage })},
		{"POST", "/account/language", Staff, anyStaff, false, h(func(s *Server) http.HandlerFunc { return s.accountLanguage })},
		{"POST", "/account/passkeys/remove", Staff, anyStaff, true, h(func(s *Server) http.HandlerFunc { return s.removePasskey })},
		{"POST", "/account/passkeys/rename", Staff, anyStaff, true, h(func(s *Server) http.HandlerFunc { return s.renamePasskey })},
		{"POST", "/account/passkeys/begin", Staff, anyStaff, true, h(func(s *Server) http.HandlerFunc { return s.registerBegin })},
		{"POST", "/account/passkeys/finish", Staff, anyStaff, true, h(func(s *Server) http.HandlerFunc { return s.registerFinish })},
		{"POST", "/account/passphrase", Staff, anyStaff, true, h(func(s *Server) http.HandlerFunc { return s.changePassphrase })},
	}
}

// insightState is what the insight pages keep in memory: the saved
// searches of sessions and the figures computed per visibility. All of it
// is dropped when the vault is sealed.
type insightState struct {
	once    sync.Once
	mu      sync.Mutex
	queries map[string]*sessionQueries // by session (hash of its CSRF token)
	figs    map[string]*figState       // by visibility key
	// actorKey keys the audit page's actor tokens.
	actorKey []byte
}

// sealNotifier is what *vault.Vault offers to run code on seal.
type sealNotifier interface{ OnSeal(func()) }

// insight returns the insight state, registering its drop on seal once.
func (s *Server) insight() *insightState {
	st := &s.insightState
	st.once.Do(func() {
		st.queries = map[string]*sessionQueries{}
		st.figs = map[string]*figState{}
		if n, ok := s.Vault.(sealNotifier); ok {
			n.OnSeal(st.drop)
		}
	})
	return st
}

// drop forgets every saved search and cached figure.
func (st *insightState) drop() {
	st.mu.Lock()
	defer st.mu.Unlock()
	clear(st.queries)
	clear(st.figs)
}
