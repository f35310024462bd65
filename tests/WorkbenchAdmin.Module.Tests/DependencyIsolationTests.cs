using System.Reflection;
using System.Runtime.Loader;

namespace WorkbenchAdmin.Module.Tests;

/// <summary>
/// The cmdlets and the public object model load in the default context; the engine and its dependencies
/// load from Dependencies/ in the module's own context. Exercised here on a staged copy of the packaged layout.
/// </summary>
public sealed class DependencyIsolationTests(ModuleFixture module) : IClassFixture<ModuleFixture>, IDisposable
{
    private static readonly string[] Dependencies = ["WorkbenchAdmin.Core", "Npgsql", "YamlDotNet", "Microsoft.Extensions.Logging.Abstractions"];
    private readonly string _staged = Directory.CreateTempSubdirectory("wbadmin-module-").FullName;

    public void Dispose() => Directory.Delete(_staged, recursive: true);

    [Fact]
    public void TheCmdletAssemblyReferencesOnlyTheFrameworkPowerShellTheModelAndTheEngine()
    {
        var references = module.Metadata.CmdletAssembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.Contains("WorkbenchAdmin.Core", references);
        Assert.All(references, name => Assert.True(
            name is "WorkbenchAdmin.Core" or "WorkbenchAdmin.Model" or "System.Management.Automation" or "netstandard" || name.StartsWith("System.", StringComparison.Ordinal) || name.StartsWith("Microsoft.Win32.", StringComparison.Ordinal),
            $"the cmdlet assembly references {name} directly; dependencies must be reached through WorkbenchAdmin.Core"));
    }

    [Fact]
    public void TheModelDependsOnNothingButTheRuntime() =>
        Assert.All(module.Metadata.FindType("WorkbenchAdmin.Model.NodeCandidate")!.Assembly.GetReferencedAssemblies(),
            a => Assert.True(a.Name is "System.Runtime" or "netstandard" || a.Name!.StartsWith("System.", StringComparison.Ordinal), $"WorkbenchAdmin.Model references {a.Name}"));

    /// <summary>
    /// PowerShell loads every exported type of the cmdlet assembly at import, before the module's initializer
    /// makes the engine resolvable: a base type, interface, override or constraint naming an engine type fails
    /// the import. So no exported type may name one in anything the type loader or PowerShell's reflection reads.
    /// </summary>
    [Fact]
    public void NoExportedCmdletTypeNamesAnEngineType()
    {
        static bool Engine(Type t) => t.HasElementType ? Engine(t.GetElementType()!)
            : (t.IsGenericType && t.GetGenericArguments().Any(Engine)) || t.Assembly.GetName().Name is not ("WorkbenchAdmin" or "WorkbenchAdmin.Model" or "System.Management.Automation")
                && !t.Assembly.GetName().Name!.StartsWith("System", StringComparison.Ordinal) && t.Assembly.GetName().Name != "netstandard";
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var offenders = new List<string>();
        foreach (var type in module.Metadata.CmdletAssembly.GetExportedTypes())
        {
            if (type.BaseType is { } b && Engine(b)) offenders.Add($"{type.Name}: base {b.Name}");
            offenders.AddRange(type.GetInterfaces().Where(Engine).Select(i => $"{type.Name}: implements {i.Name}"));
            foreach (var m in type.GetMethods(all).Where(m => m.IsVirtual || m.IsPublic || m.IsFamily || m.IsGenericMethodDefinition))
            {
                var types = m.GetParameters().Select(p => p.ParameterType).Append(m.ReturnType)
                    .Concat(m.IsGenericMethodDefinition ? m.GetGenericArguments().SelectMany(g => g.GetGenericParameterConstraints()) : []);
                offenders.AddRange(types.Where(Engine).Select(t => $"{type.Name}.{m.Name}: {t.Name}"));
            }
            foreach (var p in type.GetProperties(all).Where(p => Engine(p.PropertyType)))
                offenders.Add($"{type.Name}.{p.Name}: {p.PropertyType.Name}");
            foreach (var f in type.GetFields(all).Where(f => f.FieldType.IsValueType && Engine(f.FieldType)))
                offenders.Add($"{type.Name}.{f.Name}: {f.FieldType.Name}");
        }
        Assert.Empty(offenders);
    }

    [Fact]
    public void TheEngineAndItsDependenciesLoadInTheModulesOwnContext()
    {
        var dependencies = Directory.CreateDirectory(Path.Combine(_staged, "Dependencies")).FullName;
        File.Copy(Path.Combine(AppContext.BaseDirectory, "WorkbenchAdmin.dll"), Path.Combine(_staged, "WorkbenchAdmin.dll"));
        foreach (var name in Dependencies)
            File.Copy(Path.Combine(AppContext.BaseDirectory, name + ".dll"), Path.Combine(dependencies, name + ".dll"));

        // Its own context for the staged cmdlet assembly, standing in for PowerShell's default one.
        var host = new AssemblyLoadContext("host", isCollectible: true);
        try
        {
            var cmdlets = host.LoadFromAssemblyPath(Path.Combine(_staged, "WorkbenchAdmin.dll"));
            var contextType = cmdlets.GetType("WorkbenchAdmin.DependencyLoadContext", throwOnError: true)!;
            var isolation = cmdlets.GetType("WorkbenchAdmin.DependencyIsolation", throwOnError: true)!;
            var context = (AssemblyLoadContext)Activator.CreateInstance(contextType, dependencies)!;
            var resolve = isolation.GetMethod("ResolveEngine")!;

            Assert.Null(resolve.Invoke(null, [new AssemblyName("YamlDotNet"), context])); // only the engine is redirected
            var engine = (Assembly)resolve.Invoke(null, [new AssemblyName("WorkbenchAdmin.Core"), context])!;
            Assert.Same(context, AssemblyLoadContext.GetLoadContext(engine));
            Assert.Equal(Path.Combine(dependencies, "WorkbenchAdmin.Core.dll"), engine.Location);

            // Real engine code that needs YamlDotNet: it loads beside the engine, not from the default context.
            var spec = engine.GetType("WorkbenchAdmin.Core.Verification.ClusterSpec", throwOnError: true)!;
            var parsed = spec.GetMethod("Parse")!.Invoke(null, ["balancer: user-hash\n", "inline.yaml"])!;
            Assert.Equal("user-hash", spec.GetProperty("Balancer")!.GetValue(parsed));
            var yaml = context.Assemblies.Single(a => a.GetName().Name == "YamlDotNet");
            Assert.Equal(Path.Combine(dependencies, "YamlDotNet.dll"), yaml.Location);
            Assert.NotSame(typeof(YamlDotNet.Serialization.Deserializer).Assembly, yaml);
            Assert.DoesNotContain(host.Assemblies, a => a.GetName().Name is "YamlDotNet" or "Npgsql" or "WorkbenchAdmin.Core");
        }
        finally
        {
            host.Unload();
        }
    }
}
