package webapp

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/money"
)

// pages are the templates; each is base.html with its own "content".
var pages = []string{"signin", "error", "dashboard", "approvals", "pledges", "donors", "donor", "events", "event", "verify", "report", "forms", "form", "done"}

var funcs = template.FuncMap{
	"amount": formatAmount,
	"pct":    formatPct,
	"short":  shortHash,
	"add":    func(a, b int) int { return a + b },
	"money":  formatMoney,
}

func parseTemplates() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, p := range pages {
		t, err := template.New("base.html").Funcs(funcs).ParseFS(templateFS, "templates/base.html", "templates/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", p, err)
		}
		out[p] = t
	}
	return out, nil
}

// view is what every page template gets: the page's title, the user and
// the links of the user's role, and the page's own data.
type view struct {
	Title string
	User  *session
	Nav   []navItem
	Page  any
	// Refresh, when not zero, reloads the page after that many seconds
	// (a verify job's page while it runs).
	Refresh int
}

type navItem struct {
	Label, Href string
	Current     bool
}

// nav returns the links a user's role may use: a page the role may not
// use is not linked.
func (s *Server) nav(u *session, current string) []navItem {
	if u == nil {
		return nil
	}
	var items []navItem
	add := func(label, href string, ok bool) {
		if ok {
			items = append(items, navItem{label, href, strings.HasPrefix(current, href)})
		}
	}
	add("Dashboard", "/app/dashboard", true)
	add("Approvals", "/app/approvals", s.canReadBooks(u))
	add("Pledges", "/app/pledges", s.may(u, http.MethodGet, "/v1/pledges"))
	add("Donors", "/app/donors", s.canReadBooks(u))
	if u.p.Role.Name == "donor" {
		add("Statement", "/app/donors/"+u.p.Role.DonorID, true)
	}
	add("Record", "/app/forms", len(s.formsFor(u)) > 0)
	add("Event log", "/app/events", s.may(u, http.MethodGet, "/v1/events"))
	add("Reports", "/app/reports/budget", s.may(u, http.MethodGet, "/v1/reports/budget"))
	add("Verify", "/app/verify", s.may(u, http.MethodPost, "/v1/audit/verify"))
	return items
}

// canReadBooks reports whether the user reads the books beyond the fund's
// balance: the roles that may read the budget report (every staff role).
func (s *Server) canReadBooks(u *session) bool {
	return s.may(u, http.MethodGet, "/v1/reports/budget")
}

// render writes a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, u *session, status int, name string, data any) {
	title := map[string]string{"signin": "Sign in", "error": "Error", "dashboard": "Dashboard", "approvals": "Approvals",
		"pledges": "Pledges", "donors": "Donors", "donor": "Donor statement", "events": "Event log", "event": "Event",
		"verify": "Verify the chain", "report": "Report", "forms": "Record", "form": "Record", "done": "Recorded"}[name]
	if t, ok := data.(interface{ PageTitle() string }); ok {
		title = t.PageTitle()
	}
	refresh := 0
	if p, ok := data.(interface{ RefreshSeconds() int }); ok {
		refresh = p.RefreshSeconds()
	}
	var buf bytes.Buffer
	if err := s.tmpl[name].Execute(&buf, view{Title: title, User: u, Nav: s.nav(u, r.URL.Path), Page: data, Refresh: refresh}); err != nil {
		s.cfg.Logger.Error("render page", "page", name, "err", err)
		http.Error(w, "the page could not be drawn; the server's log says why", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

type errorView struct{ Status, Message string }

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, u *session, status int, msg string) {
	if u == nil {
		u = s.auth.session(r)
	}
	s.render(w, r, u, status, "error", errorView{Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), Message: msg})
}

// formatAmount writes a decimal string with thousands separators and its
// currency: "1234567.8" and "USD" give "1,234,567.80 USD". Money stays a
// string: it is never turned into a float.
func formatAmount(amount, currency string) string {
	if amount == "" {
		return ""
	}
	neg := strings.HasPrefix(amount, "-")
	amount = strings.TrimPrefix(amount, "-")
	whole, frac, _ := strings.Cut(amount, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	if currency != "" {
		b.WriteString(" " + currency)
	}
	return b.String()
}

// formatMoney writes an amount of the read model as formatAmount does.
func formatMoney(a money.Amount) string {
	s, _ := strings.CutSuffix(a.String(), " "+a.Currency)
	return formatAmount(s, a.Currency)
}

// formatPct writes a percentage string ("42.50") with its sign, or "–"
// when there is none (nothing to divide by).
func formatPct(p *string) string {
	if p == nil {
		return "–"
	}
	return *p + " %"
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// toFloat reads a decimal string for drawing only: the lengths of bars.
func toFloat(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
