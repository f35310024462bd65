using System.Reflection;
using System.Runtime.Loader;

namespace WorkbenchAdmin;

/// <summary>
/// Loads the module's dependencies in a context of their own, so WorkbenchAdmin imports beside modules
/// that carry other versions of Npgsql, YamlDotNet or Microsoft.Extensions.Logging (the pattern in
/// PowerShell's "Resolving PowerShell module assembly dependency conflicts"). In the default context:
/// this assembly and WorkbenchAdmin.Model (the types users see and type). The engine, WorkbenchAdmin.Core,
/// is the one assembly redirected into <see cref="DependencyLoadContext"/>; that context loads everything
/// the engine needs from <c>Dependencies/</c>, and leaves WorkbenchAdmin.Model to the default context so
/// both sides share one copy of each public type. No PowerShell types here, so tests can exercise it.
/// </summary>
public static class DependencyIsolation
{
    public const string EngineAssembly = "WorkbenchAdmin.Core";
    public const string DirectoryName = "Dependencies";
    private static readonly object Gate = new();
    private static DependencyLoadContext? s_context;
    private static bool s_registered;

    /// <summary>The packaged layout's Dependencies folder beside this assembly; null in a development build (all files side by side).</summary>
    public static string? DependencyDirectory
    {
        get
        {
            var dir = Path.Combine(Path.GetDirectoryName(typeof(DependencyIsolation).Assembly.Location) ?? "", DirectoryName);
            return Directory.Exists(dir) ? dir : null;
        }
    }

    /// <summary>
    /// Loads the public object model from beside this assembly into the default context now, so its types
    /// resolve as type literals from the first command on (nothing else would load it before first use).
    /// </summary>
    public static void LoadModel()
    {
        var path = Path.Combine(Path.GetDirectoryName(typeof(DependencyIsolation).Assembly.Location) ?? "", DependencyLoadContext.ModelAssembly + ".dll");
        lock (Gate)
        {
            if (AssemblyLoadContext.Default.Assemblies.Any(a => a.GetName().Name == DependencyLoadContext.ModelAssembly)) return;
            if (File.Exists(path)) AssemblyLoadContext.Default.LoadFromAssemblyPath(path);
        }
    }

    public static void Register()
    {
        lock (Gate)
        {
            if (s_registered || DependencyDirectory is not { } dir) return;
            s_context ??= new DependencyLoadContext(dir);
            AssemblyLoadContext.Default.Resolving += Resolve;
            s_registered = true;
        }
    }

    private static Assembly? Resolve(AssemblyLoadContext defaultContext, AssemblyName name) =>
        ResolveEngine(name, s_context);

    /// <summary>The engine from the dependency context; null for any other assembly (left to the default rules).</summary>
    public static Assembly? ResolveEngine(AssemblyName name, DependencyLoadContext? context) =>
        context is not null && string.Equals(name.Name, EngineAssembly, StringComparison.Ordinal)
            ? context.LoadFromAssemblyName(name)
            : null;
}

/// <summary>The module's private load context: assemblies found in its directory load here, the rest from the default context.</summary>
public sealed class DependencyLoadContext(string directory) : AssemblyLoadContext("WorkbenchAdmin", isCollectible: false)
{
    public const string ModelAssembly = "WorkbenchAdmin.Model";
    public string Directory { get; } = directory;

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        // The public object model is shared with the cmdlets and with the user's session: never a private copy.
        if (string.Equals(assemblyName.Name, ModelAssembly, StringComparison.Ordinal)) return null;
        var path = Path.Combine(Directory, assemblyName.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }
}
