namespace WorkbenchAdmin.Model;

/// <summary>Bounded, single-line rendering of text a user gave, so an error message never floods a console or breaks a log line.</summary>
internal static class SafeText
{
    public const int DefaultLength = 120;

    public static string Quote(string? text, int maxLength = DefaultLength)
    {
        var oneLine = (text ?? "").Replace("\r", "\\r").Replace("\n", "\\n").Replace("\t", "\\t");
        return oneLine.Length <= maxLength ? oneLine : oneLine[..maxLength] + "…";
    }
}
