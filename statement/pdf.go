package statement

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// Page geometry of the PDF, in millimetres (A4 portrait).
const (
	pdfMargin       = 15.0 // left, right and top
	pdfBottomMargin = 22.0 // room for the two-line footer
	pdfLine         = 4.0  // height of a line of table text
	pdfPad          = 1.6  // horizontal padding inside a table cell
)

// Colours of the PDF (RGB).
var (
	pdfBlue   = [3]int{11, 79, 138}
	pdfGrey   = [3]int{90, 90, 90}
	pdfRule   = [3]int{210, 210, 210}
	pdfHeadBg = [3]int{238, 243, 248}
	pdfWarnBg = [3]int{255, 244, 229}
	pdfWarnFg = [3]int{107, 55, 0}
	pdfBlack  = [3]int{34, 34, 34}
)

// PDF renders s as an A4 document a donor can file: the title, fund, term,
// donor and date, the summary and every table of the statement with amounts
// right-aligned, and on the foot of every page the chain head, the fund_seq
// and "Page N of M". It uses the PDF core fonts only: text is translated to
// code page 1252, so accents such as "Medellín" print; a character outside
// cp1252 prints as ".". The document's creation and modification dates are
// GeneratedAt and its catalogues are sorted, so the same statement gives the
// same bytes. It returns an *InvalidError when s does not validate.
func PDF(s Statement) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	generated, _ := time.Parse(time.RFC3339, s.GeneratedAt) // checked by Validate

	f := fpdf.New("P", "mm", "A4", "")
	d := &pdfDoc{f: f, s: s, tr: f.UnicodeTranslatorFromDescriptor("")}
	f.SetCreationDate(generated.UTC())
	f.SetModificationDate(generated.UTC())
	f.SetCatalogSort(true)
	f.SetCompression(true)
	f.SetTitle("Accountability statement – "+s.Donor.Name+" – "+s.fundName()+" "+s.Term.ID, true)
	f.SetAuthor(Agent, true)
	f.SetSubject(s.fundName()+", term "+s.Term.ID+", as of "+s.AsOf, true)
	f.SetCreator("mdfm-ledger statement", true)
	f.SetLang("en")
	f.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	f.SetAutoPageBreak(true, pdfBottomMargin)
	f.AliasNbPages("{nb}")
	f.SetHeaderFunc(d.header)
	f.SetFooterFunc(d.footer)

	f.AddPage()
	d.titleBlock()
	d.summary()
	d.pledges()
	d.receipts()
	d.share()
	d.paidFor()
	d.refunds()
	d.balance()

	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return nil, fmt.Errorf("render pdf: %w", err)
	}
	return buf.Bytes(), nil
}

// pdfDoc is a statement being laid out on an fpdf document.
type pdfDoc struct {
	f  *fpdf.Fpdf
	s  Statement
	tr func(string) string // UTF-8 to cp1252
}

func (d *pdfDoc) font(style string, size float64) { d.f.SetFont("Helvetica", style, size) }
func (d *pdfDoc) color(c [3]int)                  { d.f.SetTextColor(c[0], c[1], c[2]) }
func (d *pdfDoc) width() float64 {
	w, _ := d.f.GetPageSize()
	return w - 2*pdfMargin
}

// room starts a new page unless h millimetres fit above the footer.
func (d *pdfDoc) room(h float64) bool {
	_, ph := d.f.GetPageSize()
	if d.f.GetY()+h > ph-pdfBottomMargin {
		d.f.AddPage()
		return true
	}
	return false
}

// header runs at the top of every page; pages after the first get a running
// title so that a loose page still says whose statement it is.
func (d *pdfDoc) header() {
	if d.f.PageNo() == 1 {
		return
	}
	d.font("", 8)
	d.color(pdfGrey)
	d.f.CellFormat(0, 4, d.tr("Accountability statement · "+d.s.Donor.Name+" · "+d.s.fundName()+" · term "+d.s.Term.ID+" · as of "+d.s.AsOf), "B", 1, "L", false, 0, "")
	d.f.Ln(3)
	d.color(pdfBlack)
}

// footer runs at the foot of every page: the chain head and fund_seq the
// statement was computed at, and the page number.
func (d *pdfDoc) footer() {
	f := d.f
	_, ph := f.GetPageSize()
	f.SetDrawColor(pdfGrey[0], pdfGrey[1], pdfGrey[2])
	f.SetLineWidth(0.2)
	f.Line(pdfMargin, ph-17, pdfMargin+d.width(), ph-17)
	f.SetXY(pdfMargin, ph-16)
	d.color(pdfGrey)
	f.SetFont("Courier", "", 7)
	f.CellFormat(0, 3.5, "Chain head "+d.s.ChainHead, "", 1, "L", false, 0, "")
	d.font("", 7)
	f.CellFormat(d.width()-30, 3.5, d.tr(fmt.Sprintf("fund_seq %d · %s · term %s · %s · as of %s", d.s.FundSeq, d.s.Fund, d.s.Term.ID, d.s.Donor.Name, d.s.AsOf)), "", 0, "L", false, 0, "")
	f.CellFormat(30, 3.5, fmt.Sprintf("Page %d of {nb}", f.PageNo()), "", 1, "R", false, 0, "")
	d.color(pdfBlack)
}

// wrap splits cp1252 text into lines no wider than w at the current font,
// breaking at spaces and, for a word wider than w, inside the word.
func (d *pdfDoc) wrap(text string, w float64) []string {
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			try := word
			if line != "" {
				try = line + " " + word
			}
			if d.f.GetStringWidth(try) <= w {
				line = try
				continue
			}
			if line != "" {
				lines = append(lines, line)
			}
			// Cut a word too wide for a line of its own; the text is cp1252,
			// one byte a character.
			for d.f.GetStringWidth(word) > w {
				n := len(word) - 1
				for n > 1 && d.f.GetStringWidth(word[:n]) > w {
					n--
				}
				lines = append(lines, word[:n])
				word = word[n:]
			}
			line = word
		}
		lines = append(lines, line)
	}
	return lines
}

// paragraph writes wrapped text across the page.
func (d *pdfDoc) paragraph(text string, style string, size float64) {
	d.font(style, size)
	lh := size * 0.45
	for _, l := range d.wrap(d.tr(text), d.width()) {
		d.room(lh)
		d.f.CellFormat(0, lh, l, "", 1, "L", false, 0, "")
	}
}

// heading starts a section; it moves to a new page rather than sit alone at
// the foot of one.
func (d *pdfDoc) heading(text string) {
	d.f.Ln(3)
	d.room(7 + 3*pdfLine)
	d.font("B", 11)
	d.color(pdfBlue)
	d.f.CellFormat(0, 6, d.tr(text), "", 1, "L", false, 0, "")
	d.f.SetDrawColor(pdfBlue[0], pdfBlue[1], pdfBlue[2])
	d.f.SetLineWidth(0.3)
	y := d.f.GetY()
	d.f.Line(pdfMargin, y, pdfMargin+d.width(), y)
	d.f.Ln(1.5)
	d.color(pdfBlack)
}

func (d *pdfDoc) subheading(text string) {
	d.f.Ln(1)
	d.room(5 + 3*pdfLine)
	d.font("B", 9)
	d.f.CellFormat(0, 5, d.tr(text), "", 1, "L", false, 0, "")
}

func (d *pdfDoc) none(text string) {
	d.font("I", 9)
	d.color(pdfGrey)
	d.f.CellFormat(0, 5, d.tr(text), "", 1, "L", false, 0, "")
	d.color(pdfBlack)
}

// titleBlock writes the first page's head: agent, title and who, what and
// when the statement is about.
func (d *pdfDoc) titleBlock() {
	f, s := d.f, d.s
	d.font("", 8)
	d.color(pdfGrey)
	f.CellFormat(0, 4, d.tr(Agent+" · administrative agent of the "+s.fundName()), "", 1, "L", false, 0, "")
	d.font("B", 20)
	d.color(pdfBlue)
	f.CellFormat(0, 10, "Accountability statement", "", 1, "L", false, 0, "")
	d.color(pdfBlack)
	f.Ln(1)

	meta := [][2]string{
		{"Fund", s.fundName() + " (" + s.Fund + ")"},
		{"Term", s.termText()},
		{"Donor", s.Donor.Name + " (" + s.Donor.ID + ") · " + kindText(s.Donor.Kind) + " · " + s.donorPlace()},
		{"Date", s.axisText()},
		{"Generated", fmt.Sprintf("%s · fund_seq %d", s.GeneratedAt, s.FundSeq)},
		{"Currency", "US dollars (US$) unless a currency is named"},
	}
	const labelW = 22.0
	for _, kv := range meta {
		style := ""
		if kv[0] == "Donor" {
			style = "B"
		}
		d.font(style, 9)
		lines := d.wrap(d.tr(kv[1]), d.width()-labelW)
		d.font("B", 9)
		f.CellFormat(labelW, 4.5, kv[0], "", 0, "L", false, 0, "")
		d.font(style, 9)
		for i, l := range lines {
			if i > 0 {
				f.SetX(pdfMargin + labelW)
			}
			f.CellFormat(0, 4.5, l, "", 1, "L", false, 0, "")
		}
	}
	f.SetDrawColor(pdfBlue[0], pdfBlue[1], pdfBlue[2])
	f.SetLineWidth(0.8)
	f.Ln(1.5)
	f.Line(pdfMargin, f.GetY(), pdfMargin+d.width(), f.GetY())
	f.Ln(2)

	if s.Illustrative {
		d.font("B", 9)
		lines := d.wrap(d.tr(IllustrativeNotice), d.width()-6)
		h := float64(len(lines))*4.5 + 4
		f.SetDrawColor(179, 92, 0)
		f.SetFillColor(pdfWarnBg[0], pdfWarnBg[1], pdfWarnBg[2])
		f.SetLineWidth(0.6)
		f.Rect(pdfMargin, f.GetY(), d.width(), h, "FD")
		f.Ln(2)
		d.color(pdfWarnFg)
		for _, l := range lines {
			f.SetX(pdfMargin + 3)
			f.CellFormat(0, 4.5, l, "", 1, "L", false, 0, "")
		}
		f.Ln(2)
		d.color(pdfBlack)
	}
}

// column describes one column of a table: Right aligns amounts; Flex columns
// share the width the others leave and wrap their text.
type column struct {
	Head  string
	Right bool
	Flex  bool
}

// rowStyle is how a table row is drawn.
type rowStyle int

const (
	rowPlain rowStyle = iota
	rowSub            // indented, grey: a part of the row above
	rowBreak          // a rule above: a new block
	rowTotal          // bold with a rule above: a result
)

// table lays out rows under cols across width w (the page's width when 0),
// repeating the head row on each new page. styles, when not nil, gives each
// row's style.
func (d *pdfDoc) table(cols []column, rows [][]string, styles []rowStyle, w float64) {
	if w == 0 {
		w = d.width()
	}
	tr := make([][]string, len(rows))
	for i, r := range rows {
		tr[i] = make([]string, len(r))
		for j, c := range r {
			tr[i][j] = d.tr(c)
		}
	}
	widths, size := d.columnWidths(cols, tr, w)
	t := &pdfTable{d: d, cols: cols, widths: widths, w: w, size: size, lineH: pdfLine * size / 8}
	heads := make([]string, len(cols))
	for j, c := range cols {
		heads[j] = d.tr(c.Head)
	}
	t.headLines, t.headH = t.cellLines(heads, "B")
	d.room(t.headH + pdfLine + 1.6)
	t.drawHead()
	d.color(pdfBlack)
	for i, r := range tr {
		st := rowPlain
		if styles != nil {
			st = styles[i]
		}
		t.row(r, st)
	}
	d.f.Ln(2)
}

// columnWidths returns the widths of cols across w for the rows tr, and the
// font size they fit at. Natural widths: the widest cell (bold, in case it
// is a total) and the widest word of the head. A table too wide at 8 pt
// tries smaller sizes before it wraps amounts.
func (d *pdfDoc) columnWidths(cols []column, tr [][]string, w float64) ([]float64, float64) {
	const minFlex = 28.0
	f := d.f
	widths := make([]float64, len(cols))
	var size, fixed float64
	flex := 0
	for _, size = range []float64{8, 7.5, 7, 6.5} {
		d.font("B", size)
		fixed, flex = 0, 0
		for j, c := range cols {
			widths[j] = 0
			for _, word := range strings.Fields(d.tr(c.Head)) {
				widths[j] = max(widths[j], f.GetStringWidth(word))
			}
			if c.Flex {
				flex++
				continue
			}
			for _, r := range tr {
				widths[j] = max(widths[j], f.GetStringWidth(r[j]))
			}
			widths[j] += 2*pdfPad + 0.2
			fixed += widths[j]
		}
		if fixed+float64(flex)*minFlex <= w {
			break
		}
	}
	if fixed+float64(flex)*minFlex > w {
		// Still too wide: shrink the fixed columns in proportion; their text
		// wraps.
		scale := (w - float64(flex)*minFlex) / fixed
		for j, c := range cols {
			if !c.Flex {
				widths[j] *= scale
			}
		}
		fixed = w - float64(flex)*minFlex
	}
	for j, c := range cols {
		if c.Flex {
			widths[j] = (w - fixed) / float64(flex)
		} else if flex == 0 {
			// No flex column: the spare width spreads over all of them.
			widths[j] += (w - fixed) / float64(len(cols))
		}
	}
	return widths, size
}

// pdfTable is a table being drawn: its columns laid out, and its head row.
type pdfTable struct {
	d              *pdfDoc
	cols           []column
	widths         []float64
	w, size, lineH float64
	headLines      [][]string
	headH          float64
}

// cellLines wraps a row's cells in style, and returns their lines and the
// row's height.
func (t *pdfTable) cellLines(r []string, style string) ([][]string, float64) {
	t.d.font(style, t.size)
	out := make([][]string, len(r))
	n := 1
	for j, c := range r {
		out[j] = t.d.wrap(c, t.widths[j]-2*pdfPad)
		n = max(n, len(out[j]))
	}
	return out, float64(n)*t.lineH + 1.6
}

// draw draws a row's lines, h high, on a shaded band when fill is set.
func (t *pdfTable) draw(lines [][]string, h float64, style string, fill bool) {
	f := t.d.f
	x, y := pdfMargin, f.GetY()
	if fill {
		f.SetFillColor(pdfHeadBg[0], pdfHeadBg[1], pdfHeadBg[2])
		f.Rect(x, y, t.w, h, "F")
	}
	t.d.font(style, t.size)
	for j, cl := range lines {
		align := "L"
		if t.cols[j].Right {
			align = "R"
		}
		for k, l := range cl {
			f.SetXY(x+pdfPad, y+0.8+float64(k)*t.lineH)
			f.CellFormat(t.widths[j]-2*pdfPad, t.lineH, l, "", 0, align, false, 0, "")
		}
		x += t.widths[j]
	}
	f.SetXY(pdfMargin, y+h)
}

// rule draws a rule across the table at the current line.
func (t *pdfTable) rule(c [3]int, lw float64) {
	f := t.d.f
	f.SetDrawColor(c[0], c[1], c[2])
	f.SetLineWidth(lw)
	f.Line(pdfMargin, f.GetY(), pdfMargin+t.w, f.GetY())
}

func (t *pdfTable) drawHead() {
	t.draw(t.headLines, t.headH, "B", true)
	t.rule(pdfGrey, 0.3)
}

// row draws one row in its style, on a new page under the head row again
// when it does not fit.
func (t *pdfTable) row(r []string, st rowStyle) {
	d := t.d
	font := ""
	if st == rowTotal {
		font = "B"
	}
	lines, h := t.cellLines(r, font)
	if st == rowSub && len(lines) > 0 {
		for k := range lines[0] {
			lines[0][k] = "    " + lines[0][k]
		}
	}
	if d.room(h) {
		t.drawHead()
	}
	switch st {
	case rowTotal:
		t.rule(pdfBlack, 0.4)
	case rowBreak:
		t.rule(pdfGrey, 0.3)
	}
	if st == rowSub {
		d.color(pdfGrey)
	}
	t.draw(lines, h, font, false)
	d.color(pdfBlack)
	t.rule(pdfRule, 0.1)
}

func (d *pdfDoc) summary() {
	d.heading("Summary")
	var rows [][]string
	var styles []rowStyle
	for _, r := range d.s.summary() {
		rows = append(rows, []string{r.Label, money.Grouped(r.USD)})
		st := map[string]rowStyle{"": rowPlain, "sub": rowSub, "break": rowBreak, "total": rowTotal}[r.Style]
		styles = append(styles, st)
	}
	d.table([]column{{Head: "", Flex: true}, {Head: "US$", Right: true}}, rows, styles, 125)
}

func (d *pdfDoc) pledges() {
	p := d.s.Pledged
	d.heading("Pledged")
	if len(p.Pledges) == 0 {
		d.none("No pledges in this term.")
		return
	}
	var rows [][]string
	var styles []rowStyle
	for _, x := range p.Pledges {
		rows = append(rows, []string{x.ID, x.SignedOn, x.DueOn, moneyText(x.Amount), x.USDRate, money.Grouped(x.USD), earmarkText(x.Earmark), words(x.Status), moneyText(x.Outstanding), money.Grouped(x.OutstandingUSD)})
		styles = append(styles, rowPlain)
	}
	rows = append(rows, []string{"Total pledged", "", "", "", "", money.Grouped(p.TotalUSD), "", "", "", money.Grouped(p.OutstandingUSD)})
	styles = append(styles, rowTotal)
	d.table([]column{
		{Head: "Pledge"}, {Head: "Signed"}, {Head: "Due"},
		{Head: "Amount", Right: true}, {Head: "Rate", Right: true}, {Head: "US$", Right: true},
		{Head: "Earmark"}, {Head: "Status"}, {Head: "Outstanding", Right: true}, {Head: "Outst. US$", Right: true},
	}, rows, styles, 0)
	d.byCurrency(p.ByCurrency)
}

func (d *pdfDoc) byCurrency(ts []CurrencyTotal) {
	if len(ts) == 0 {
		return
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.Currency + " " + money.Grouped(t.Amount) + " = US$ " + money.Grouped(t.USD)
	}
	d.color(pdfGrey)
	d.paragraph("By currency: "+strings.Join(parts, "; ")+".", "", 8)
	d.color(pdfBlack)
}

func (d *pdfDoc) receipts() {
	r := d.s.Received
	d.heading("Received")
	if len(r.Receipts) == 0 && r.Unlisted == nil {
		d.none("No contributions received in this term.")
		return
	}
	var rows [][]string
	var styles []rowStyle
	for _, x := range r.Receipts {
		rows = append(rows, []string{x.ID, x.ReceivedOn, moneyText(x.Amount), x.USDRate, money.Grouped(x.USD), money.Grouped(x.FeeUSD), x.BankRef, x.PledgeID})
		styles = append(styles, rowPlain)
	}
	if u := r.Unlisted; u != nil {
		rows = append(rows, []string{unlistedText(u), "", "", "", money.Grouped(u.USD), money.Grouped(u.FeeUSD), "", ""})
		styles = append(styles, rowPlain)
	}
	rows = append(rows, []string{"Total received", "", "", "", money.Grouped(r.TotalUSD), money.Grouped(r.FeesUSD), "", ""})
	styles = append(styles, rowTotal)
	d.table([]column{
		{Head: "Receipt"}, {Head: "Received"}, {Head: "Amount", Right: true},
		{Head: "Rate", Right: true}, {Head: "US$", Right: true}, {Head: "Fee US$", Right: true},
		{Head: "Bank reference", Flex: true}, {Head: "Pledge"},
	}, rows, styles, 0)
	d.byCurrency(r.ByCurrency)
}

func (d *pdfDoc) share() {
	s := d.s
	d.heading("Your share of the pool, of fees and of interest")
	d.table([]column{{Head: "", Flex: true}, {Head: "Yours (US$)", Right: true}, {Head: "The term's (US$)", Right: true}, {Head: "Share", Right: true}}, [][]string{
		{"Unearmarked contributions (the pool)", money.Grouped(s.Share.UnearmarkedUSD), money.Grouped(s.Share.TermUnearmarkedUSD), pctText(s.Share.PoolPct)},
		{"Fees charged by the administrative agent", money.Grouped(s.Received.FeesUSD), money.Grouped(s.Share.TermFeesUSD), pctText(s.Share.FeesPct)},
		{"Interest earned on the trust balance", money.Grouped(s.Share.InterestUSD), money.Grouped(s.Share.TermInterestUSD), pctText(s.Share.InterestPct)},
	}, nil, 0)
}

func (d *pdfDoc) paidFor() {
	p := d.s.PaidFor
	d.heading("What your money paid for")
	if len(p.Lines) == 0 {
		d.none("Nothing has been spent from your contributions yet.")
		return
	}
	d.subheading("By budget line")
	var rows [][]string
	var styles []rowStyle
	for _, l := range p.Lines {
		rows = append(rows, []string{l.LineID, l.Title, l.ClusterID, money.Grouped(l.EarmarkedUSD), money.Grouped(l.ProRataUSD), money.Grouped(l.TotalUSD)})
		styles = append(styles, rowPlain)
	}
	rows = append(rows, []string{"Total spent", "", "", "", "", money.Grouped(p.TotalUSD)})
	styles = append(styles, rowTotal)
	d.table([]column{{Head: "Line"}, {Head: "Title", Flex: true}, {Head: "Cluster"}, {Head: "Earmarked", Right: true}, {Head: "Pro rata", Right: true}, {Head: "Total US$", Right: true}}, rows, styles, 0)

	if len(p.Clusters) > 0 {
		d.subheading("By cluster")
		rows = nil
		for _, c := range p.Clusters {
			rows = append(rows, []string{clusterName(c), money.Grouped(c.USD), pctText(c.Pct)})
		}
		d.table([]column{{Head: "Cluster", Flex: true}, {Head: "US$", Right: true}, {Head: "Share", Right: true}}, rows, nil, 0)
	}
	groups := func(title, head string, gs []GroupUse) {
		if len(gs) == 0 {
			return
		}
		d.subheading(title)
		var rows [][]string
		for _, g := range gs {
			rows = append(rows, []string{g.Name, strings.Join(g.Cities, ", "), money.Grouped(g.USD), pctText(g.Pct)})
		}
		d.table([]column{{Head: head}, {Head: "Cities reached", Flex: true}, {Head: "US$", Right: true}, {Head: "Share", Right: true}}, rows, nil, 0)
	}
	groups("By UNESCO region of the cities reached", "Region", p.Regions)
	title := "By World Bank income group"
	if p.IncomeGroupFY != "" {
		title += " (" + p.IncomeGroupFY + ")"
	}
	groups(title, "Income group", p.IncomeGroups)
}

func (d *pdfDoc) refunds() {
	r := d.s.Refunds
	d.heading("Refunds")
	if len(r.Refunds) == 0 {
		d.none("No refunds paid to you in this term.")
		return
	}
	var rows [][]string
	var styles []rowStyle
	for _, x := range r.Refunds {
		rows = append(rows, []string{x.ID, x.PaidOn, x.Note, money.Grouped(x.USD)})
		styles = append(styles, rowPlain)
	}
	rows = append(rows, []string{"Total refunded", "", "", money.Grouped(r.TotalUSD)})
	styles = append(styles, rowTotal)
	d.table([]column{{Head: "Refund"}, {Head: "Paid"}, {Head: "Note", Flex: true}, {Head: "US$", Right: true}}, rows, styles, 0)
}

func (d *pdfDoc) balance() {
	b := d.s.Balance
	d.heading("Unspent balance and what you are entitled to at close")
	d.table([]column{{Head: "", Flex: true}, {Head: "US$", Right: true}}, [][]string{
		{"Unspent balance", money.Grouped(b.UnspentUSD)},
		{"allocated to approved activities, not yet spent", money.Grouped(b.AllocatedUnspentUSD)},
		{"not yet allocated", money.Grouped(b.UnallocatedUSD)},
	}, []rowStyle{rowTotal, rowSub, rowSub}, 125)
	d.paragraph(d.s.entitlementText(), "", 9)
	d.f.Ln(3)
	d.color(pdfGrey)
	d.paragraph(d.s.verifyText(), "", 8)
	d.paragraph("Money held in trust by UIL for the donors of the fund is not UIL revenue; only the fees shown above reach UIL.", "", 8)
	d.color(pdfBlack)
}
