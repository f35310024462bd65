namespace WorkbenchAdmin.Model;

/// <summary>Bounded, single-line rendering of text a user gave, so an error message never floods a console or breaks a log line.</summary>
internal static class SafeText
{
    public const int DefaultLength = 120;

    public static string Quote(string? text, int maxLength = DefaultLength)
    {
        var oneLine = EscapeLoneSurrogates((text ?? "").Replace("\r", "\\r").Replace("\n", "\\n").Replace("\t", "\\t"));
        if (oneLine.Length <= maxLength) return oneLine;
        // Never cut a surrogate pair in two.
        return oneLine[..(char.IsHighSurrogate(oneLine[maxLength - 1]) ? maxLength - 1 : maxLength)] + "…";
    }

    /// <summary>A lone surrogate has no UTF-8 form: a console or log would print it as '?', so it is shown as \uXXXX.</summary>
    private static string EscapeLoneSurrogates(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF')) return text;
        var sb = new System.Text.StringBuilder(text.Length + 8);
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) sb.Append(text[i]).Append(text[++i]);
            else if (char.IsSurrogate(text[i])) sb.Append($"\\u{(int)text[i]:X4}");
            else sb.Append(text[i]);
        }
        return sb.ToString();
    }
}
