// Package items holds the example resource that shows the database link end to end: an item has
// a UUIDv7 id (time-ordered, so keyset pagination by id follows creation order), a name of 1 to
// 200 characters, and its creation time.
package items

import (
	"context"
	"errors"
	"fmt"
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
	MaxNameLen   = 200
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
//     noncharacters.
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
	for i, r := range name {
		c := classify(r)
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

// Character classes of the name policy.
const (
	classVisible = iota
	classSpace
	classControl
	classSeparator
	classBidi
	classInvisible
	classNonchar
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

// List returns up to limit items with ids after the given one (uuid.Nil: from the start), in id
// order, which for UUIDv7 ids is creation order.
func (s *Store) List(ctx context.Context, after uuid.UUID, limit int) ([]Item, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT id, name, created_at FROM items WHERE id > $1 ORDER BY id LIMIT $2`, [16]byte(after), limit)
	if err != nil {
		return nil, fmt.Errorf("items: list: %w", err)
	}
	out := make([]Item, 0, limit)
	for rows.Next() {
		var it Item
		if err := rows.Scan((*[16]byte)(&it.ID), &it.Name, &it.CreatedAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("items: list: %w", err)
		}
		it.CreatedAt = it.CreatedAt.UTC()
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("items: list: %w", err)
	}
	return out, nil
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
