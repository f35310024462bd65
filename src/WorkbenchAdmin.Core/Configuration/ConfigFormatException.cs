using WorkbenchAdmin.Core.Errors;

namespace WorkbenchAdmin.Core.Configuration;

/// <summary>A configuration file that cannot be read as written: names the file, the line and the text.</summary>
public sealed class ConfigFormatException : WbException
{
    private const int MaxQuoted = 120;

    public ConfigFormatException(string filePath, int lineNumber, string lineText, string problem)
        : base("ConfigSyntaxError", WbErrorCategory.ParserError,
               $"{filePath}:{lineNumber}: {problem}: '{Quote(lineText)}'", filePath)
    {
        FilePath = filePath;
        LineNumber = lineNumber;
        LineText = lineText;
        Problem = problem;
    }

    public string FilePath { get; }
    public int LineNumber { get; }
    public string LineText { get; }
    public string Problem { get; }

    /// <summary>Bounded, single-line rendering of offending text so an error never floods a console.</summary>
    internal static string Quote(string text)
    {
        var oneLine = text.Replace("\r", "\\r").Replace("\n", "\\n").Replace("\t", "\\t");
        return oneLine.Length <= MaxQuoted ? oneLine : oneLine[..MaxQuoted] + "…";
    }
}
