namespace WorkbenchAdmin.Model;

/// <summary>A tab completion: the text to insert and a tooltip.</summary>
public readonly record struct Completion(string Text, string Tooltip);
