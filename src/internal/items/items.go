// Package items holds the example resource that shows the database link end to end: an item has
// a UUIDv7 id, a name of 1 to 200 characters (see ValidateName for the policy), and its creation
// time; lists are paged with cursors that lose no item under concurrent creates (see List).
package items

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Item is one stored item.
type Item struct {
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Limits of a name and of a page.
const (
	MaxNameLen = 200
	// MaxMarkRun is how many combining marks may follow one another: the limit of Unicode's
	// Stream-Safe Text Format (UAX #15), past which text is no language's and only stacks
	// marks above and below the line ("Zalgo" text over the names listed next to it).
	MaxMarkRun   = 30
	DefaultLimit = 20
	MaxLimit     = 100
)

// ErrNotFound means no item has the given id.
var ErrNotFound = errors.New("item not found")

// ValidateName checks a name against the service's policy, modelled on the FreeformClass of
// PRECIS (RFC 8264): a name is 1 to 200 characters (runes) of valid UTF-8 that display as what
// they are.
//
//   - Refused anywhere: control characters (C0, DEL, C1), line and paragraph separators,
//     bidirectional controls (LRM, RLM, ALM, the embeddings, overrides and isolates: they make
//     text display in another order than it is stored, as in Trojan Source), every other
//     invisible character (format characters and default-ignorable code points: zero-width
//     space, word joiner, byte order mark, soft hyphen, Hangul fillers, tag characters, ...) and
//     noncharacters; private-use and unassigned code points (how they display is up to each
//     font, or not defined yet) and conjoining Hangul jamo (they compose into syllables that
//     look like the precomposed ones); PRECIS disallows all three.
//   - Combining marks follow a character they combine with: not at the start (where they display
//     on whatever precedes the name, as IDNA refuses them at a label's start) and at most
//     MaxMarkRun in a row.
//   - Allowed in context only: the zero-width joiner and non-joiner between two visible
//     characters (emoji sequences, Persian and Indic scripts), and a variation selector right
//     after a visible character (emoji or text presentation).
//   - At least one character must be visible: spaces of any kind and the blank braille pattern
//     do not count.
//
// Names are stored as given: not normalized, not trimmed. The message is safe to show to the
// client.
func ValidateName(name string) error {
	if !utf8.ValidString(name) {
		return errors.New("name must be valid UTF-8")
	}
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return errors.New("name is required")
	case n > MaxNameLen:
		return fmt.Errorf("name must be at most %d characters, got %d", MaxNameLen, n)
	}
	visible := false
	prev := classSpace // what precedes the first character: nothing to join to
	marks := 0         // combining marks in a row, up to this rune
	for i, r := range name {
		c := classify(r)
		if err := checkMark(i, r, c, &marks); err != nil {
			return err
		}
		switch c {
		case classControl:
			return fmt.Errorf("name must not contain control characters (%U)", r)
		case classSeparator:
			return fmt.Errorf("name must not contain a line or paragraph separator (%U)", r)
		case classBidi:
			return fmt.Errorf("name must not contain bidirectional control characters (%U): they reorder how text displays", r)
		case classInvisible:
			return fmt.Errorf("name must not contain invisible characters (%U)", r)
		case classNonchar:
			return fmt.Errorf("name must not contain a noncharacter (%U)", r)
		case classUndefined:
			return fmt.Errorf("name must not contain a private-use or unassigned code point (%U): how it displays is not defined", r)
		case classJamo:
			return fmt.Errorf("name must not contain conjoining Hangul jamo (%U): write the precomposed syllable", r)
		case classJoiner:
			next, _ := utf8.DecodeRuneInString(name[i+utf8.RuneLen(r):])
			if prev != classVisible && prev != classVariation || i+utf8.RuneLen(r) == len(name) || classify(next) != classVisible {
				return fmt.Errorf("name may hold a zero-width joiner or non-joiner (%U) only between two visible characters", r)
			}
		case classVariation:
			if prev != classVisible {
				return fmt.Errorf("name may hold a variation selector (%U) only right after a visible character", r)
			}
		case classVisible:
			visible = true
		}
		prev = c
	}
	if !visible {
		return errors.New("name must not be blank")
	}
	return nil
}

// checkMark refuses a combining mark at the start of a name and the MaxMarkRun+1st mark in a row;
// marks counts the run. Variation selectors, which are marks too, have their own rule.
func checkMark(i int, r rune, c int, marks *int) error {
	if c != classVisible || !unicode.Is(unicode.M, r) {
		*marks = 0
		return nil
	}
	if i == 0 {
		return fmt.Errorf("name must not start with a combining mark (%U): it displays on whatever precedes the name", r)
	}
	if *marks++; *marks > MaxMarkRun {
		return fmt.Errorf("name must not hold more than %d combining marks in a row", MaxMarkRun)
	}
	return nil
}

// conjoiningJamo are the Hangul jamo that compose into syllables (PRECIS's OldHangulJamo: the
// leading, vowel and trailing jamo of Hangul_Syllable_Type L, V and T). The fillers among them
// are default-ignorable and refused as invisible first.
var conjoiningJamo = &unicode.RangeTable{R16: []unicode.Range16{
	{Lo: 0x1100, Hi: 0x11ff, Stride: 1},
	{Lo: 0xa960, Hi: 0xa97c, Stride: 1},
	{Lo: 0xd7b0, Hi: 0xd7c6, Stride: 1},
	{Lo: 0xd7cb, Hi: 0xd7fb, Stride: 1},
}}

// Character classes of the name policy.
const (
	classVisible = iota
	classSpace
	classControl
	classSeparator
	classBidi
	classInvisible
	classNonchar
	classUndefined
	classJamo
	classJoiner
	classVariation
)

// classify puts one rune in the name policy's classes.
func classify(r rune) int {
	switch {
	case r == '\u200c' || r == '\u200d':
		return classJoiner
	case unicode.Is(unicode.Variation_Selector, r):
		return classVariation
	case unicode.IsControl(r):
		return classControl
	case r == '\u2028' || r == '\u2029':
		return classSeparator
	case unicode.Is(unicode.Bidi_Control, r):
		return classBidi
	case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r):
		return classInvisible
	case unicode.Is(unicode.Noncharacter_Code_Point, r):
		return classNonchar
	case unicode.Is(unicode.Co, r) || !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Cc, unicode.Cf, unicode.Cs):
		return classUndefined // in no category but these: unassigned (Cn); unicode.C would hold Cn too
	case unicode.Is(conjoiningJamo, r):
		return classJamo
	case unicode.IsSpace(r) || r == '\u2800': // the blank braille pattern displays as a space
		return classSpace
	}
	return classVisible
}

// Store keeps items in PostgreSQL. Every call is bounded by the store's timeout, so a database
// that does not answer makes a request fail fast instead of hanging.
type Store struct {
	pool    *pgxpool.Pool
	timeout time.Duration
}

// NewStore returns a store over pool whose calls each take at most timeout.
func NewStore(pool *pgxpool.Pool, timeout time.Duration) *Store {
	return &Store{pool: pool, timeout: timeout}
}

// Ids travel to and from pgx as [16]byte, which it encodes natively in binary; a uuid.UUID would
// go through database/sql's Valuer as text and be parsed again (about a dozen allocations).

// Create stores a new item with a fresh UUIDv7 id.
func (s *Store) Create(ctx context.Context, name string) (Item, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return Item{}, fmt.Errorf("items: new id: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	it := Item{ID: id}
	err = s.pool.QueryRow(ctx, `INSERT INTO items (id, name) VALUES ($1, $2) RETURNING name, created_at`, [16]byte(id), name).
		Scan(&it.Name, &it.CreatedAt)
	if err != nil {
		return Item{}, fmt.Errorf("items: create: %w", err)
	}
	it.CreatedAt = it.CreatedAt.UTC()
	return it, nil
}

// Get returns the item with id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id uuid.UUID) (Item, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	it := Item{ID: id}
	err := s.pool.QueryRow(ctx, `SELECT name, created_at FROM items WHERE id = $1`, [16]byte(id)).Scan(&it.Name, &it.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Item{}, ErrNotFound
	}
	if err != nil {
		return Item{}, fmt.Errorf("items: get: %w", err)
	}
	it.CreatedAt = it.CreatedAt.UTC()
	return it, nil
}

// Cursor is a position in the list of items: after the item created by transaction xid with
// the given id. The zero Cursor is the start of the list.
type Cursor struct {
	xid uint64
	id  uuid.UUID
}

// cursorLen is the length of a cursor's text: 24 bytes in unpadded base64url.
const cursorLen = 32

// String returns the cursor as the API shows it: opaque, URL-safe, 32 characters.
func (c Cursor) String() string {
	var b [24]byte
	binary.BigEndian.PutUint64(b[:8], c.xid)
	copy(b[8:], c.id[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ParseCursor reads a cursor made by String; anything else is an error.
func ParseCursor(s string) (Cursor, error) {
	if len(s) != cursorLen {
		return Cursor{}, errors.New("not a cursor")
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 24 {
		return Cursor{}, errors.New("not a cursor")
	}
	c := Cursor{xid: binary.BigEndian.Uint64(b[:8])}
	copy(c.id[:], b[8:])
	if c.xid == 0 || c.id == uuid.Nil {
		return Cursor{}, errors.New("not a cursor")
	}
	return c, nil
}

// List returns up to limit items positioned after the cursor, in list order, and the cursor of
// each. The list order is the order of the transactions that created the items (practically
// creation order), then id.
//
// Ids are minted before their row commits, so rows do not become visible in id order, nor in
// transaction order. List therefore serves only rows created by transactions older than the
// oldest one still running in the database (pg_snapshot_xmin of the statement's snapshot): every
// transaction that could still add a row at or before such a position has ended, so once a
// position has been served, no row can appear before it. A client that follows the cursors sees
// every item once. The price: a row is listed only once every transaction that began writing
// before it has ended (a long transaction anywhere in the database delays new rows from lists,
// never from Get).
func (s *Store) List(ctx context.Context, after Cursor, limit int) ([]Item, []Cursor, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	// The transaction id goes out as text under another name: ORDER BY created_xid would
	// otherwise sort by the text output column of that name, not by the xid8 column.
	rows, err := s.pool.Query(ctx, `SELECT i.id, i.name, i.created_at, i.created_xid::text AS position_xid FROM items i
		WHERE (i.created_xid, i.id) > ($1::text::xid8, $2) AND i.created_xid < pg_snapshot_xmin(pg_current_snapshot())
		ORDER BY i.created_xid, i.id LIMIT $3`, strconv.FormatUint(after.xid, 10), [16]byte(after.id), limit)
	if err != nil {
		return nil, nil, fmt.Errorf("items: list: %w", err)
	}
	defer rows.Close()
	list, cursors := make([]Item, 0, limit), make([]Cursor, 0, limit)
	for rows.Next() {
		var (
			it  Item
			xid string
		)
		if err := rows.Scan((*[16]byte)(&it.ID), &it.Name, &it.CreatedAt, &xid); err != nil {
			return nil, nil, fmt.Errorf("items: list: %w", err)
		}
		x, err := strconv.ParseUint(xid, 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("items: list: transaction id %q: %w", xid, err)
		}
		it.CreatedAt = it.CreatedAt.UTC()
		list, cursors = append(list, it), append(cursors, Cursor{xid: x, id: it.ID})
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("items: list: %w", err)
	}
	return list, cursors, nil
}

// Delete removes the item with id, or returns ErrNotFound.
func (s *Store) Delete(ctx context.Context, id uuid.UUID) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `DELETE FROM items WHERE id = $1`, [16]byte(id))
	if err != nil {
		return fmt.Errorf("items: delete: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
