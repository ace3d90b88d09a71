package kong

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// decode stores the generic value v (from YAML or JSON: maps, slices, strings, numbers,
// booleans, nil) into dst, following dst's JSON field names. Unknown fields and values of
// the wrong type are errors naming their path, such as
// "config.targets[1].model.optoins: unknown field (did you mean options?)"; every one is
// reported, joined (errors.Join).
// time.Duration fields take Kong's integer milliseconds.
func decode(path string, v any, dst reflect.Value) error {
	if v == nil {
		return nil // null keeps the zero value, as Kong's "not set"
	}
	if dst.Type() == durationType {
		ms, ok := number(v)
		if !ok || ms < 0 {
			return fmt.Errorf("%s: expected a non-negative number of milliseconds, got %s", path, describe(v))
		}
		dst.SetInt(int64(ms * float64(time.Millisecond)))
		return nil
	}
	switch dst.Kind() {
	case reflect.Pointer:
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		return decode(path, v, dst.Elem())
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: expected an object, got %s", path, describe(v))
		}
		fields := jsonFields(dst.Type())
		var errs []error
		for _, k := range sortedKeys(m) {
			idx, ok := fields[k]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: unknown field%s", join(path, k), suggest(k, fields)))
				continue
			}
			errs = append(errs, decode(join(path, k), m[k], dst.Field(idx)))
		}
		return errors.Join(errs...)
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: expected an array, got %s", path, describe(v))
		}
		out := reflect.MakeSlice(dst.Type(), len(list), len(list))
		var errs []error
		for i, e := range list {
			errs = append(errs, decode(path+"["+strconv.Itoa(i)+"]", e, out.Index(i)))
		}
		dst.Set(out)
		return errors.Join(errs...)
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok || dst.Type().Key().Kind() != reflect.String || dst.Type().Elem().Kind() != reflect.Interface {
			return fmt.Errorf("%s: expected an object, got %s", path, describe(v))
		}
		dst.Set(reflect.ValueOf(m))
		return nil
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: expected a string, got %s", path, describe(v))
		}
		dst.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("%s: expected true or false, got %s", path, describe(v))
		}
		dst.SetBool(b)
		return nil
	case reflect.Int, reflect.Int64, reflect.Int32:
		f, ok := number(v)
		if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return fmt.Errorf("%s: expected an integer, got %s", path, describe(v))
		}
		dst.SetInt(int64(f))
		return nil
	case reflect.Float64, reflect.Float32:
		f, ok := number(v)
		if !ok {
			return fmt.Errorf("%s: expected a number, got %s", path, describe(v))
		}
		dst.SetFloat(f)
		return nil
	case reflect.Interface:
		dst.Set(reflect.ValueOf(v))
		return nil
	}
	return fmt.Errorf("%s: cannot be set from a configuration file", path)
}

var durationType = reflect.TypeFor[time.Duration]()

// jsonFields maps the JSON names of t's settable fields to their index.
func jsonFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		out[name] = i
	}
	return out
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return "the string " + strconv.Quote(x)
	case bool:
		return strconv.FormatBool(x)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprint(v)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// suggest names the known field closest to a misspelt one, if one is close.
func suggest(k string, fields map[string]int) string {
	best, bestD := "", 3
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if d := distance(k, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}

// distance is the Levenshtein edit distance.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
