namespace WorkbenchAdmin.Core.Tests.Support;

/// <summary>Finds the repository root (the folder with WorkbenchAdmin.sln) and the shared/ folder beside it.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Shared
    {
        get
        {
            var shared = Path.GetFullPath(Path.Combine(Root, "..", "shared"));
            if (!Directory.Exists(shared))
                throw new DirectoryNotFoundException($"The shared/ folder is expected beside the repository, at '{shared}'.");
            return shared;
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "WorkbenchAdmin.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException("WorkbenchAdmin.sln not found above " + AppContext.BaseDirectory);
    }
}
