using System.Text.RegularExpressions;

namespace WorkbenchAdmin.Core.Configuration;

/// <summary>
/// A configuration file that cannot be read as written. Names the file, line, column and (when the line has
/// one) the key, and never quotes the line or a value: the line may hold a password, or be a key file read
/// by mistake, and the message ends up in tickets.
/// </summary>
public sealed partial class ConfigFormatException : WbException
{
    /// <param name="key">The line's key; named only when it looks like one (text before an '=' may be anything, a key file's content included).</param>
    /// <param name="problem">What is wrong, without the key and without any text of the line.</param>
    public ConfigFormatException(string filePath, int lineNumber, int column, string? key, string problem)
        : base("ConfigSyntaxError", WbErrorCategory.ParserError,
               $"{filePath}:{lineNumber}:{column}: {(NameOrNull(key) is { } name ? name + ": " : "")}{problem}", filePath)
    {
        FilePath = filePath;
        LineNumber = lineNumber;
        Column = column;
        Key = NameOrNull(key);
        Problem = problem;
    }

    /// <summary>A key or section name fit to print: one that looks like a name, not arbitrary text of a line.</summary>
    internal static string? NameOrNull(string? name) => name is not null && Name().IsMatch(name) ? name : null;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex Name();

    /// <summary>An entry whose value cannot be used: points at the value and names the key.</summary>
    internal static ConfigFormatException AtValue(string filePath, ConfigLine line, string problem) =>
        new(filePath, line.Number, line.ValueColumn, line.Key, problem);

    public string FilePath { get; }
    public int LineNumber { get; }
    /// <summary>1-based position on the line (in characters; in bytes for invalid UTF-8) where the problem starts.</summary>
    public int Column { get; }
    /// <summary>The key of the line, when it has one that looks like a key.</summary>
    public string? Key { get; }
    public string Problem { get; }
}
