namespace WorkbenchAdmin.Model;

/// <summary>The schema state Initialize-WbDatabase reports.</summary>
public sealed record DatabaseSchemaStatus(string Database, int Version, IReadOnlyList<string> Applied);
