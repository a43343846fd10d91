package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/platform-template/template-api/src/internal/database"
	"github.com/platform-template/template-api/src/internal/items"
	"github.com/platform-template/template-api/src/internal/reqlog"
)

// ItemStore is what the item handlers need of storage (items.Store in the service).
type ItemStore interface {
	Create(ctx context.Context, name string) (items.Item, error)
	Get(ctx context.Context, id uuid.UUID) (items.Item, error)
	List(ctx context.Context, after items.Cursor, limit int) ([]items.Item, []items.Cursor, error)
	Delete(ctx context.Context, id uuid.UUID) error
}

type createItemRequest struct {
	Name *string `json:"name"`
}

type listItemsResponse struct {
	Items []items.Item `json:"items"`
	// NextAfter is the position after the last item of the page: pass it as ?after= for the next
	// page, now or later. Absent on an empty page (keep the after you sent).
	NextAfter string `json:"next_after,omitempty"`
	// HasMore says more items are listable right now after NextAfter.
	HasMore bool `json:"has_more"`
}

func createItem(store ItemStore, maxBody int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req createItemRequest
		if e := decodeJSON(w, r, maxBody, &req); e != nil {
			writeError(w, r, e)
			return
		}
		if req.Name == nil {
			writeError(w, r, &apiError{http.StatusBadRequest, codeInvalidField, "name is required"})
			return
		}
		if err := items.ValidateName(*req.Name); err != nil {
			writeError(w, r, &apiError{http.StatusBadRequest, codeInvalidField, err.Error()})
			return
		}
		it, err := store.Create(r.Context(), *req.Name)
		if err != nil {
			writeStoreError(w, r, err)
			return
		}
		w.Header().Set("Location", "/v1/items/"+it.ID.String())
		writeItem(w, http.StatusCreated, it)
	})
}

func getItem(store ItemStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := itemID(w, r)
		if !ok {
			return
		}
		it, err := store.Get(r.Context(), id)
		if err != nil {
			writeStoreError(w, r, err)
			return
		}
		writeItem(w, http.StatusOK, it)
	})
}

func listItems(store ItemStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query() // checked by the router: only limit and after, each once, not empty
		limit := items.DefaultLimit
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > items.MaxLimit {
				writeError(w, r, &apiError{http.StatusBadRequest, codeInvalidQuery, "limit must be a whole number from 1 to " + strconv.Itoa(items.MaxLimit)})
				return
			}
			limit = n
		}
		var after items.Cursor
		if v := q.Get("after"); v != "" {
			c, err := items.ParseCursor(v)
			if err != nil {
				writeError(w, r, &apiError{http.StatusBadRequest, codeInvalidQuery, "after must be a next_after cursor from an earlier page"})
				return
			}
			after = c
		}
		// One more than asked tells whether another page is listable without a count query.
		list, cursors, err := store.List(r.Context(), after, limit+1)
		if err != nil {
			writeStoreError(w, r, err)
			return
		}
		resp := listItemsResponse{Items: list}
		if len(list) > limit {
			resp.Items, resp.HasMore = list[:limit], true
		}
		if n := len(resp.Items); n > 0 {
			resp.NextAfter = cursors[n-1].String()
		}
		writeJSONBytes(w, http.StatusOK, append(appendItemList(make([]byte, 0, 160*len(resp.Items)+96), resp.Items, resp.NextAfter, resp.HasMore), '\n'))
	})
}

func deleteItem(store ItemStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := itemID(w, r)
		if !ok {
			return
		}
		if err := store.Delete(r.Context(), id); err != nil {
			writeStoreError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// writeItem answers status with one item, built in one buffer sized for it: 106 bytes and the
// name, and room for escapes.
func writeItem(w http.ResponseWriter, status int, it items.Item) {
	b := make([]byte, 0, 112+len(it.Name)+len(it.Name)/2)
	writeJSONBytes(w, status, append(appendItem(b, it), '\n'))
}

func itemID(w http.ResponseWriter, r *http.Request) (uuid.UUID, bool) {
	id, err := parseUUID(chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, &apiError{http.StatusBadRequest, codeInvalidID, "id must be a UUID"})
		return uuid.Nil, false
	}
	return id, true
}

// parseUUID accepts only the canonical 36-character form.
func parseUUID(s string) (uuid.UUID, error) {
	if len(s) != 36 {
		return uuid.Nil, errors.New("not a canonical UUID")
	}
	return uuid.Parse(s)
}

// writeStoreError maps a storage error: not found is 404, an unavailable database 503, anything
// else 500 with the cause logged and not shown.
func writeStoreError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, items.ErrNotFound):
		writeError(w, r, &apiError{http.StatusNotFound, codeNotFound, "item not found"})
	case database.IsUnavailable(err):
		reqlog.FromContext(r.Context()).Warn().Err(err).Msg("database unavailable")
		w.Header().Set("Retry-After", "1")
		writeError(w, r, &apiError{http.StatusServiceUnavailable, codeUnavailable, "database unavailable, retry later"})
	default:
		reqlog.FromContext(r.Context()).Error().Err(err).Msg("storage failure")
		writeError(w, r, &apiError{http.StatusInternalServerError, codeInternal, "internal server error"})
	}
}
