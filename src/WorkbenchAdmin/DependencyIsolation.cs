using System.Reflection;
using System.Runtime.Loader;

namespace WorkbenchAdmin;

/// <summary>
/// Loads the module's dependencies in a context of their own, so WorkbenchAdmin imports beside modules
/// that carry other versions of Npgsql, YamlDotNet or Microsoft.Extensions.Logging (the pattern in
/// PowerShell's "Resolving PowerShell module assembly dependency conflicts"). Only this assembly loads in
/// the default context. The engine, WorkbenchAdmin.Core, is the one assembly redirected into
/// <see cref="DependencyLoadContext"/>; that context then loads everything the engine needs from
/// <c>Dependencies/</c>. No PowerShell types here, so tests can exercise it.
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

    public static void Unregister()
    {
        lock (Gate)
        {
            if (!s_registered) return;
            AssemblyLoadContext.Default.Resolving -= Resolve;
            s_registered = false;
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
    public string Directory { get; } = directory;

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var path = Path.Combine(Directory, assemblyName.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }
}
