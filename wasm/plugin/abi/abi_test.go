package abi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
)

func records(rs ...[]byte) []byte { return bytes.Join(rs, nil) }

func rec(kind byte, payload string) []byte { return AppendRecord(nil, kind, []byte(payload)) }

var hello = rec(KindHello, "haulout-plugin/1 test 1.2.3")

// Output split anywhere decodes the same.
func TestDecoderSplitWrites(t *testing.T) {
	stream := records(hello, rec(KindData, "hello, "), rec(KindAttribute, "a.b=c=d"), rec(KindData, ""), rec(KindData, "world"), rec(KindEnd, ""))
	for step := 1; step <= len(stream); step++ {
		var d Decoder
		for i := 0; i < len(stream); i += step {
			if _, err := d.Write(stream[i:min(i+step, len(stream))]); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
		}
		if err := d.Finish(); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		data, attrs := d.Output()
		if string(data) != "hello, world" || len(attrs) != 3 || attrs["a.b"] != "c=d" || attrs["plugin"] != "test" || attrs["plugin.version"] != "1.2.3" {
			t.Fatalf("step %d: %q %v", step, data, attrs)
		}
	}
}

func TestDecoderViolations(t *testing.T) {
	long := strings.Repeat("v", MaxAttrValue+1)
	var many [][]byte
	many = append(many, hello)
	for i := range MaxAttributes + 1 {
		many = append(many, rec(KindAttribute, "k"+string(rune('a'+i%26))+string(rune('a'+i/26))+"=v"))
	}
	bigHeader := append([]byte{KindData}, binary.LittleEndian.AppendUint32(nil, MaxChunk+1)...)
	for _, tc := range []struct {
		name, want string
		stream     []byte
		maxOutput  int64
	}{
		{"empty", "no output", nil, 0},
		{"data first", "first record is 'D', want the hello record", rec(KindData, "x"), 0},
		{"unknown kind", "record of unknown kind 0x5a", records(hello, rec('Z', "")), 0},
		{"other version", `plugin speaks "haulout-plugin/2", this host speaks haulout-plugin/1`, rec(KindHello, "haulout-plugin/2 x 1"), 0},
		{"bad hello", `want "haulout-plugin/1 NAME VERSION"`, rec(KindHello, "haulout-plugin/1 Bad_Name 1"), 0},
		{"two hellos", "second hello record", records(hello, hello), 0},
		{"huge data record", "data record of 1048577 bytes", records(hello, bigHeader), 0},
		{"output limit", "output exceeds the limit of 10 bytes", records(hello, rec(KindData, "0123456"), rec(KindData, "789ab")), 10},
		{"attr without =", "want key=value", records(hello, rec(KindAttribute, "novalue")), 0},
		{"attr bad key", "want key=value", records(hello, rec(KindAttribute, "Key=v")), 0},
		{"attr reserved", `attribute "plugin.version" is the host's to set`, records(hello, rec(KindAttribute, "plugin.version=9")), 0},
		{"attr too long", "value must be at most 1024 bytes", records(hello, rec(KindAttribute, "k="+long)), 0},
		{"attr not utf8", "value must be at most 1024 bytes of UTF-8", records(hello, rec(KindAttribute, "k=\xff")), 0},
		{"attr twice", `attribute "k" set twice`, records(hello, rec(KindAttribute, "k=1"), rec(KindAttribute, "k=2")), 0},
		{"too many attrs", "more than 64 attributes", records(many...), 0},
		{"end with payload", "end record with a 1-byte payload", records(hello, rec(KindEnd, "x")), 0},
		{"after end", "1 bytes after the end record", records(hello, rec(KindEnd, ""), []byte{0}), 0},
		{"no end", "output ends without the end record", records(hello, rec(KindData, "x")), 0},
		{"cut record", "output ends inside a record", records(hello, rec(KindData, "xyz"))[:len(hello)+6], 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decoder{MaxOutput: tc.maxOutput}
			_, werr := d.Write(tc.stream)
			err := d.Finish()
			if !errors.Is(err, ErrViolation) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v (write: %v), want a violation saying %q", err, werr, tc.want)
			}
			if werr != nil {
				if _, again := d.Write([]byte("more")); again == nil {
					t.Fatal("a write after a violation succeeded")
				}
			}
		})
	}
}

func TestValidName(t *testing.T) {
	for s, ok := range map[string]bool{
		"gzip": true, "a": true, "0day": true, "aes-gcm_2.0": true,
		"": false, "-x": false, ".x": false, "Gzip": false, "a b": false, "a=b": false, strings.Repeat("a", 65): false,
	} {
		if ValidName(s) != ok {
			t.Errorf("ValidName(%q) = %v", s, !ok)
		}
	}
}

// Run under the ABI, natively: what Serve does in a plugin.
func TestRun(t *testing.T) {
	upper := func(dir Direction, args Args, in io.Reader, out *Output) error {
		if err := args.Only("suffix"); err != nil {
			return err
		}
		b, err := io.ReadAll(in)
		if err != nil {
			return err
		}
		if dir == Forward {
			b = bytes.ToUpper(b)
		} else {
			b = bytes.ToLower(b)
		}
		out.Write(b)
		out.Write([]byte(args["suffix"]))
		return out.SetAttribute("upper.dir", dir.String())
	}
	env := func(k string) string {
		if k == EnvVar {
			return "1"
		}
		return ""
	}
	big := strings.Repeat("x", 200<<10) // several data records
	var stdout, stderr bytes.Buffer
	code := Run("upper", "0.1", upper, []string{"upper", "forward", "suffix=!"}, env, strings.NewReader(big), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var d Decoder
	d.Write(stdout.Bytes())
	if err := d.Finish(); err != nil {
		t.Fatal(err)
	}
	data, attrs := d.Output()
	if string(data) != strings.ToUpper(big)+"!" || attrs["upper.dir"] != "forward" || attrs["plugin"] != "upper" {
		t.Fatalf("%d bytes, %v", len(data), attrs)
	}

	for _, tc := range []struct {
		name   string
		argv   []string
		env    func(string) string
		code   int
		stderr string
	}{
		{"outside haulout", []string{"upper", "forward"}, func(string) string { return "" }, 2, "is a haulout plugin (haulout-plugin/1)"},
		{"no direction", []string{"upper"}, env, 2, "no direction"},
		{"bad direction", []string{"upper", "sideways"}, env, 2, `direction "sideways"`},
		{"bad argument", []string{"upper", "forward", "novalue"}, env, 2, `argument "novalue" is not key=value`},
		{"unknown argument", []string{"upper", "reverse", "color=red"}, env, 1, "upper: unknown argument color (this plugin takes: suffix)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run("upper", "0.1", upper, tc.argv, tc.env, strings.NewReader("x"), &stdout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tc.code, tc.stderr)
			}
		})
	}
}
