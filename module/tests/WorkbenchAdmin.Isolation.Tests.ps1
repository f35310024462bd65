#Requires -Modules Pester
<#
    The module works beside another module that already loaded older copies of its libraries: YamlDotNet 13
    and Microsoft.Extensions.Logging.Abstractions 6 are loaded into PowerShell's default context first (as a
    module bundling them would), then WorkbenchAdmin is imported and used for a YAML spec, the store and
    logging. Each case runs in a fresh pwsh, so nothing this session loaded interferes.

    The older copies come from tests/fixtures/OlderDependencies (built by ./build.ps1 -Task Pester, which
    sets WORKBENCHADMIN_OLDER_DEPENDENCIES to its output folder).
#>

BeforeAll {
    $script:modulePath = if ($env:WORKBENCHADMIN_MODULE) { $env:WORKBENCHADMIN_MODULE } else { 'WorkbenchAdmin' }
    Import-Module $modulePath -Force -ErrorAction Stop
    $script:older = $env:WORKBENCHADMIN_OLDER_DEPENDENCIES
    Add-Type -LiteralPath (Join-Path (Get-Module WorkbenchAdmin).ModuleBase 'module' 'WorkbenchAdmin.Testing.dll')
    $script:pg = [WorkbenchAdmin.Testing.ThrowawayPostgres]::Start()
    $script:cs = $pg.ConnectionString('postgres')
    Initialize-WbDatabase -ConnectionString $cs -Confirm:$false | Out-Null

    $script:spec = Join-Path $TestDrive 'cluster.yaml'
    Set-Content -LiteralPath $spec -Value "balancer: sessions`n"
    $script:root = Join-Path $TestDrive 'node1'
    New-Item -ItemType Directory -Path $root | Out-Null
    Copy-Item -Path (Join-Path (Split-Path (Split-Path $PSScriptRoot -Parent) -Parent) 'examples' 'etc-rstudio' '*') -Destination $root

    # Runs $Body in a fresh pwsh after loading the older libraries; returns its output as one object from JSON.
    function Invoke-BesideOlderLibrary([string] $Body) {
        $script = @"
`$ErrorActionPreference = 'Stop'
Add-Type -LiteralPath '$older/YamlDotNet.dll'
Add-Type -LiteralPath '$older/Microsoft.Extensions.Logging.Abstractions.dll'
`$null = [YamlDotNet.Serialization.DeserializerBuilder]::new().Build().Deserialize[object]('a: 1')
Import-Module '$modulePath'
$Body
"@
        $output = pwsh -NoProfile -NonInteractive -Command $script 2>&1
        if ($LASTEXITCODE -ne 0) { throw "pwsh failed ($LASTEXITCODE): $($output -join "`n")" }
        ($output -join "`n") | ConvertFrom-Json
    }
}

AfterAll {
    if ($pg) { $pg.Dispose() }
}

Describe 'Beside older copies of its libraries' -Tag 'Isolation' {
    It 'finds the older copies to load' {
        $older | Should -Not -BeNullOrEmpty -Because 'build.ps1 -Task Pester builds tests/fixtures/OlderDependencies'
        [Reflection.AssemblyName]::GetAssemblyName((Join-Path $older 'YamlDotNet.dll')).Version.Major | Should -Be 13
        [Reflection.AssemblyName]::GetAssemblyName((Join-Path $older 'Microsoft.Extensions.Logging.Abstractions.dll')).Version.Major | Should -Be 6
    }

    It 'reads a YAML spec with its own YamlDotNet while YamlDotNet 13 is loaded' {
        $r = Invoke-BesideOlderLibrary @"
`$results = @(Test-WbCluster -Spec '$spec' -Check spec.balancer -ConfigRoot '$root' -ConnectionString '$cs' -ProgressAction SilentlyContinue)
`$yaml = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq 'YamlDotNet' } |
    ForEach-Object { '{0}={1}' -f [Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$_).Name, `$_.GetName().Version.Major }
@{ Status = [string]`$results[0].Status; Yaml = @(`$yaml | Sort-Object) } | ConvertTo-Json -Compress
"@
        $r.Status | Should -Be 'Pass'
        $r.Yaml | Should -Be @('Default=13', 'WorkbenchAdmin=16')
    }

    It 'uses the store and logs through its own Microsoft.Extensions.Logging while version 6 is loaded' {
        $r = Invoke-BesideOlderLibrary @"
`$verbose = Get-WbNode -ConnectionString '$cs' -Verbose 4>&1 | Where-Object { `$_ -is [Management.Automation.VerboseRecord] }
`$logging = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq 'Microsoft.Extensions.Logging.Abstractions' } |
    ForEach-Object { '{0}={1}' -f [Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$_).Name, `$_.GetName().Version.Major }
@{ Verbose = @(`$verbose | ForEach-Object Message); Logging = @(`$logging | Sort-Object) } | ConvertTo-Json -Compress
"@
        $r.Verbose -join "`n" | Should -Match 'ClusterStore: GetNodes on'
        $r.Logging | Should -Be @('Default=6', 'WorkbenchAdmin=8')
    }

    It 'never loads Npgsql or the engine into the default context' {
        $r = Invoke-BesideOlderLibrary @"
New-WbSession -UserName isolated -ConnectionString '$cs' -ErrorAction SilentlyContinue | Out-Null
`$where = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -match '^(Npgsql|WorkbenchAdmin\.Core)$' } |
    ForEach-Object { '{0}={1}' -f `$_.GetName().Name, [Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$_).Name }
@{ Loaded = @(`$where | Sort-Object) } | ConvertTo-Json -Compress
"@
        $r.Loaded | Should -Be @('Npgsql=WorkbenchAdmin', 'WorkbenchAdmin.Core=WorkbenchAdmin')
    }
}
