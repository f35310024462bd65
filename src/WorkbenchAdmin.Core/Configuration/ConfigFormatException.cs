
namespace WorkbenchAdmin.Core.Configuration;

/// <summary>A configuration file that cannot be read as written: names the file, the line and the text.</summary>
public sealed class ConfigFormatException : WbException
{
    public ConfigFormatException(string filePath, int lineNumber, string lineText, string problem)
        : base("ConfigSyntaxError", WbErrorCategory.ParserError,
               $"{filePath}:{lineNumber}: {problem}: '{SafeText.Quote(lineText)}'", filePath)
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

}
