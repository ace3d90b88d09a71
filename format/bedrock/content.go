package bedrock

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/aiproxy/aiproxy/format"
	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/provider"
)

// userPart translates a block of a user message (cache points give none).
func userPart(field string, b *wireBlock) ([]chat.Part, error) {
	switch {
	case b.Text != nil:
		return []chat.Part{chat.TextPart(*b.Text)}, nil
	case b.Image != nil:
		p, err := image(field+".image", b.Image)
		return []chat.Part{p}, err
	case b.Document != nil:
		return document(field+".document", b.Document)
	case b.GuardContent != nil:
		g := b.GuardContent
		if g.Text != nil {
			return []chat.Part{chat.TextPart(g.Text.Text)}, nil
		}
		if g.Image != nil {
			p, err := image(field+".guardContent.image", g.Image)
			return []chat.Part{p}, err
		}
		return nil, invalid(field+".guardContent", "guardContent needs text or image")
	case !chat.IsNull(b.CachePoint):
		return nil, nil
	case !chat.IsNull(b.Video):
		return nil, unsupported(field+".video", "chat completions take no video")
	}
	return nil, unsupported(field, "user blocks other than text, image, document, toolResult and guardContent have no chat equivalent")
}

// imageTypes maps Converse's image formats to media types.
var imageTypes = map[string]string{"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}

// documentTypes maps Converse's document formats to media types.
var documentTypes = map[string]string{
	"pdf": "application/pdf", "csv": "text/csv", "doc": "application/msword",
	"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"xls":  "application/vnd.ms-excel",
	"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"html": "text/html", "txt": "text/plain", "md": "text/markdown",
}

// bytesOf returns a source's base64 bytes, refusing S3 locations.
func bytesOf(field string, src *wireSource) (string, error) {
	switch {
	case src.Bytes != nil:
		return *src.Bytes, nil
	case !chat.IsNull(src.S3Location):
		return "", unsupported(field+".source.s3Location", "chat completions take the data, not an S3 location")
	}
	return "", invalid(field+".source", "the source needs bytes")
}

// image translates an image block into an image_url part with a data URL.
func image(field string, m *wireMedia) (chat.Part, error) {
	typ, ok := imageTypes[m.Format]
	if !ok {
		return chat.Part{}, invalid(field+".format", "an image format must be png, jpeg, gif or webp")
	}
	data, err := bytesOf(field, &m.Source)
	if err != nil {
		return chat.Part{}, err
	}
	return chat.Part{Type: "image_url", ImageURL: &provider.ImageURL{URL: "data:" + typ + ";base64," + data}}, nil
}

// document translates a document block: bytes into a file part named name.format, text
// sources into text parts.
func document(field string, m *wireMedia) ([]chat.Part, error) {
	switch {
	case m.Source.Text != nil:
		return []chat.Part{chat.TextPart(*m.Source.Text)}, nil
	case m.Source.Content != nil:
		var parts []chat.Part
		for j, b := range m.Source.Content {
			if b.Text == nil {
				return nil, invalid(format.Index(field+".source.content", j), "document content blocks must be text")
			}
			parts = append(parts, chat.TextPart(*b.Text))
		}
		return parts, nil
	}
	typ, ok := documentTypes[m.Format]
	if !ok {
		return nil, invalid(field+".format", "a document format must be pdf, csv, doc, docx, xls, xlsx, html, txt or md")
	}
	data, err := bytesOf(field, &m.Source)
	if err != nil {
		return nil, err
	}
	name := m.Name
	if name != "" && !strings.HasSuffix(name, "."+m.Format) {
		name += "." + m.Format
	}
	return []chat.Part{{Type: "file", File: &chat.File{FileData: "data:" + typ + ";base64," + data, Filename: name}}}, nil
}

// toolResult translates a toolResult block: its text and JSON become the tool message's
// content, its images and documents are returned to follow in a user message (chat tool
// messages carry text only). status has no chat equivalent.
func toolResult(field string, r *wireToolResult) (*chat.Content, []chat.Part, error) {
	if r.ToolUseID == "" {
		return nil, nil, invalid(field+".toolUseId", "a toolResult block needs toolUseId")
	}
	var text strings.Builder
	var media []chat.Part
	for j, b := range r.Content {
		bf := format.Index(field+".content", j)
		var s string
		switch {
		case b.Text != nil:
			s = *b.Text
		case b.JSON != nil:
			var buf bytes.Buffer
			if json.Compact(&buf, *b.JSON) != nil {
				return nil, nil, invalid(bf+".json", "json must be a JSON value")
			}
			s = buf.String()
		case b.Image != nil, b.Document != nil:
			p, err := userPart(bf, &b)
			if err != nil {
				return nil, nil, err
			}
			media = append(media, p...)
			continue
		default:
			return nil, nil, unsupported(bf, "tool result blocks other than text, json, image and document have no chat equivalent")
		}
		if text.Len() > 0 {
			text.WriteByte('\n')
		}
		text.WriteString(s)
	}
	return chat.Text(text.String()), media, nil
}
