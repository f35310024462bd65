namespace WorkbenchAdmin.Model;

/// <summary>Bounded, single-line rendering of text a user gave, so an error message never floods a console or breaks a log line.</summary>
internal static class SafeText
{
    public const int DefaultLength = 120;

    public static string Quote(string? text, int maxLength = DefaultLength)
    {
        var oneLine = EscapeUnprintable((text ?? "").Replace("\r", "\\r").Replace("\n", "\\n").Replace("\t", "\\t"));
        if (oneLine.Length <= maxLength) return oneLine;
        // Never cut a surrogate pair in two.
        return oneLine[..(char.IsHighSurrogate(oneLine[maxLength - 1]) ? maxLength - 1 : maxLength)] + "…";
    }

    /// <summary>
    /// Characters a console or log would not show as they are: a control character (a NUL would end a C string, an
    /// escape sequence would drive a terminal) as \u00XX; a lone surrogate, which has no UTF-8 form, as \uXXXX, except
    /// U+DC80..U+DCFF, a byte that was not UTF-8 where it was read (RawText), shown as \xXX.
    /// </summary>
    private static string EscapeUnprintable(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF') && !text.Any(char.IsControl)) return text;
        var sb = new System.Text.StringBuilder(text.Length + 8);
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) sb.Append(text[i]).Append(text[++i]);
            else if (text[i] is >= '\uDC80' and <= '\uDCFF') sb.Append($"\\x{text[i] - 0xDC00:X2}");
            else if (char.IsSurrogate(text[i]) || char.IsControl(text[i])) sb.Append($"\\u{(int)text[i]:X4}");
            else sb.Append(text[i]);
        }
        return sb.ToString();
    }
}
