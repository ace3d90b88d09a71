// Command convert turns three public intent data sets into the small routing sets of
// package intenteval (embed/offline/testdata/intents/*.tsv). It is run by
// scripts/intent-eval/convert.sh, which checks the sources out at pinned commits; its output
// is deterministic (selection by SHA-256 of the text, no randomness).
//
// Usage:
//
//	convert -banking77 DIR -hwu64 DIR -snips DIR -out DIR
//
// Each set maps the source's intents (or scenarios) to a handful of routing targets, the
// domains a gateway would send to different models, and to CATCHALL for intents that no
// target covers (out of scope). Every row is one of:
//
//	example   40 per target: the target's examples (aiproxy's examples)
//	dev       60 per target and 350 out of scope: for development, tuned on
//	heldout   as many again, disjoint: scored once per change
//
// The output's columns: part, target (or CATCHALL), source intent, text.
package main

import (
	"cmp"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

const (
	perTargetExamples = 40
	perTargetQueries  = 60 // in each of dev and heldout
	outOfScopeQueries = 350
	catchall          = "CATCHALL"
)

type row struct{ target, intent, text string }

func main() {
	banking := flag.String("banking77", "", "checkout of PolyAI-LDN/task-specific-datasets")
	hwu := flag.String("hwu64", "", "checkout of xliuhw/NLU-Evaluation-Data")
	snips := flag.String("snips", "", "checkout of sonos/nlu-benchmark")
	out := flag.String("out", "", "output directory")
	flag.Parse()
	if *banking == "" || *hwu == "" || *snips == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	sets := []struct {
		name string
		read func(string) ([]row, error)
		dir  string
	}{
		{"banking77", readBanking77, *banking},
		{"hwu64", readHWU64, *hwu},
		{"snips", readSNIPS, *snips},
	}
	for _, s := range sets {
		rows, err := s.read(s.dir)
		if err != nil {
			log.Fatalf("%s: %v", s.name, err)
		}
		if err := write(filepath.Join(*out, s.name+".tsv"), s.name, rows); err != nil {
			log.Fatalf("%s: %v", s.name, err)
		}
	}
}

// write deduplicates rows by normalised text (a text under two labels is dropped), orders
// each label's rows by the SHA-256 of set name and text, and deals them into the parts.
func write(path, set string, rows []row) error {
	byText := map[string][]row{}
	for _, r := range rows {
		r.text = strings.Join(strings.Fields(r.text), " ")
		if r.text == "" {
			continue
		}
		k := strings.ToLower(r.text)
		byText[k] = append(byText[k], r)
	}
	byTarget := map[string][]row{}
	for _, rs := range byText {
		if slices.ContainsFunc(rs, func(r row) bool { return r.target != rs[0].target }) {
			continue
		}
		byTarget[rs[0].target] = append(byTarget[rs[0].target], rs[0])
	}
	key := func(r row) string {
		sum := sha256.Sum256([]byte(set + "\x00" + strings.ToLower(r.text)))
		return string(sum[:])
	}
	targets := make([]string, 0, len(byTarget))
	for t, rs := range byTarget {
		slices.SortFunc(rs, func(a, b row) int { return cmp.Compare(key(a), key(b)) })
		targets = append(targets, t)
	}
	slices.Sort(targets)
	var b strings.Builder
	b.WriteString("# part\ttarget\tintent\ttext; converted by embed/offline/internal/intenteval/convert, see NOTICE\n")
	emit := func(part string, rs []row) {
		for _, r := range rs {
			fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", part, r.target, r.intent, r.text)
		}
	}
	for _, t := range targets {
		rs := byTarget[t]
		if t == catchall {
			if len(rs) < 2*outOfScopeQueries {
				return fmt.Errorf("%d out-of-scope texts, want %d", len(rs), 2*outOfScopeQueries)
			}
			emit("dev", rs[:outOfScopeQueries])
			emit("heldout", rs[outOfScopeQueries:2*outOfScopeQueries])
			continue
		}
		n := perTargetExamples + 2*perTargetQueries
		if len(rs) < n {
			return fmt.Errorf("target %s has %d texts, want %d", t, len(rs), n)
		}
		emit("example", rs[:perTargetExamples])
		emit("dev", rs[perTargetExamples:perTargetExamples+perTargetQueries])
		emit("heldout", rs[perTargetExamples+perTargetQueries:n])
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// banking77Targets groups Banking77's 77 intents into the departments of a bank; intents
// of no listed group are out of scope.
var banking77Targets = map[string][]string{
	"top_up": {"automatic_top_up", "top_up_by_bank_transfer_charge", "pending_top_up", "top_up_limits",
		"top_up_reverted", "topping_up_by_card", "verify_top_up", "top_up_by_cash_or_cheque", "top_up_failed",
		"top_up_by_card_charge"},
	"transfer": {"cancel_transfer", "transfer_not_received_by_recipient", "declined_transfer", "pending_transfer",
		"transfer_timing", "beneficiary_not_allowed", "transfer_fee_charged", "failed_transfer",
		"transfer_into_account", "receiving_money", "balance_not_updated_after_bank_transfer"},
	"cash_withdrawal": {"pending_cash_withdrawal", "wrong_amount_of_cash_received", "atm_support",
		"declined_cash_withdrawal", "card_swallowed", "wrong_exchange_rate_for_cash_withdrawal",
		"cash_withdrawal_not_recognised", "cash_withdrawal_charge"},
	"exchange": {"exchange_rate", "card_payment_wrong_exchange_rate", "fiat_currency_support", "exchange_via_app",
		"exchange_charge"},
	"identity": {"why_verify_identity", "unable_to_verify_identity", "verify_source_of_funds", "verify_my_identity"},
	"security": {"lost_or_stolen_card", "compromised_card", "lost_or_stolen_phone", "pin_blocked", "change_pin",
		"passcode_forgotten"},
}

func readBanking77(dir string) ([]row, error) {
	target := map[string]string{}
	for t, intents := range banking77Targets {
		for _, in := range intents {
			target[in] = t
		}
	}
	var rows []row
	for _, f := range []string{"train.csv", "test.csv"} {
		recs, err := readCSV(filepath.Join(dir, "banking_data", f), ',')
		if err != nil {
			return nil, err
		}
		for _, r := range recs[1:] { // text,category
			t := cmp.Or(target[r[1]], catchall)
			rows = append(rows, row{target: t, intent: r[1], text: r[0]})
		}
	}
	return rows, nil
}

// hwu64Targets are the HWU64 scenarios routed to a target; the other scenarios (audio,
// datetime, general, lists, play, qa, recommendation, social) are out of scope.
var hwu64Targets = []string{"alarm", "calendar", "cooking", "email", "iot", "music", "news", "takeaway", "transport", "weather"}

func readHWU64(dir string) ([]row, error) {
	// Fold 1's train and test sets together hold every annotated utterance once.
	base := filepath.Join(dir, "CrossValidation/autoGeneFromRealAnno/autoGene_2018_03_22-13_01_25_169/CrossValidation/KFold_1")
	files, err := filepath.Glob(filepath.Join(base, "trainset", "*.csv"))
	if err != nil {
		return nil, err
	}
	test, err := filepath.Glob(filepath.Join(base, "testset", "csv", "*.csv"))
	if err != nil {
		return nil, err
	}
	files = append(files, test...)
	if len(files) != 128 {
		return nil, fmt.Errorf("%d csv files under %s, want 64 + 64", len(files), base)
	}
	var rows []row
	for _, f := range files {
		recs, err := readCSV(f, ';')
		if err != nil {
			return nil, err
		}
		for _, r := range recs[1:] { // answerid;scenario;intent;answer_annotation;answer_from_anno;answer_from_user
			if len(r) != 6 {
				return nil, fmt.Errorf("%s: a row of %d fields, want 6", f, len(r))
			}
			t := catchall
			if slices.Contains(hwu64Targets, r[1]) {
				t = r[1]
			}
			rows = append(rows, row{target: t, intent: r[1] + "_" + r[2], text: r[4]})
		}
	}
	return rows, nil
}

// snipsTargets are the SNIPS intents routed to a target; AddToPlaylist and
// SearchCreativeWork, each close to one of them, are out of scope.
var snipsTargets = []string{"BookRestaurant", "GetWeather", "PlayMusic", "RateBook", "SearchScreeningEvent"}

func readSNIPS(dir string) ([]row, error) {
	var rows []row
	for _, intent := range []string{"AddToPlaylist", "BookRestaurant", "GetWeather", "PlayMusic", "RateBook",
		"SearchCreativeWork", "SearchScreeningEvent"} {
		t := catchall
		if slices.Contains(snipsTargets, intent) {
			t = intent
		}
		for _, f := range []string{"train_" + intent + ".json", "validate_" + intent + ".json"} {
			data, err := os.ReadFile(filepath.Join(dir, "2017-06-custom-intent-engines", intent, f))
			if err != nil {
				return nil, err
			}
			var doc map[string][]struct {
				Data []struct {
					Text string `json:"text"`
				} `json:"data"`
			}
			if err := json.Unmarshal(data, &doc); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			for _, q := range doc[intent] {
				var b strings.Builder
				for _, d := range q.Data {
					b.WriteString(d.Text)
				}
				rows = append(rows, row{target: t, intent: intent, text: b.String()})
			}
		}
	}
	return rows, nil
}

func readCSV(path string, comma rune) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma, r.LazyQuotes, r.FieldsPerRecord = comma, true, -1
	var recs [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) < 2 {
			return nil, fmt.Errorf("%s: a row of %d fields", path, len(rec))
		}
		recs = append(recs, rec)
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("%s: no rows", path)
	}
	return recs, nil
}
