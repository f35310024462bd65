#Requires -Modules Pester
<#
    A newcomer's first minutes: the README's first code block, run as it is written, in a fresh clone.
    The clone is of the checkout's committed HEAD (what CI's clean clone holds; uncommitted changes are not in it),
    in a temporary directory with nothing built. The demo command runs there from bash, then from pwsh; .ci/run
    must run the README's test command verbatim. Runs from the repository's module/tests; where the machine lacks
    something the bootstrap would install, the clone is skipped (the bootstrap would install it mid-run).
#>

BeforeAll {
    $script:repo = Split-Path (Split-Path $PSScriptRoot -Parent) -Parent
    $script:readme = Join-Path $repo 'README.md'
    $script:notCheckout = if (-not (Test-Path -LiteralPath (Join-Path $repo '.git'))) { "$repo is not a git checkout (the suite runs from a copy of module/tests)" }
    elseif (-not (Get-Command git -CommandType Application -ErrorAction SilentlyContinue)) { 'git is not installed (apt-get install git; ./bootstrap.sh installs it)' }

    # The README's first code block, one command a line, comments dropped.
    $script:commands = @()
    if (Test-Path -LiteralPath $readme) {
        $block = [regex]::Match((Get-Content -Raw -LiteralPath $readme), '(?s)```sh\n(.*?)\n```').Groups[1].Value
        $script:commands = @($block -split "`n" | ForEach-Object { ($_ -replace '\s+#.*$', '').Trim() } | Where-Object { $_ })
    }

    $script:clone = $null
    $script:cloneSkip = $notCheckout
    if (-not $cloneSkip) {
        $missing = & bash (Join-Path $repo 'bootstrap.sh') --check 2>&1
        if ($LASTEXITCODE -ne 0) { $script:cloneSkip = "this machine lacks what ./bootstrap.sh would install ($($missing -join '; ')): run it first" }
    }

    # A command line run by a shell in the clone: its exit code and everything it printed, escape sequences removed.
    function Invoke-InClone([string] $Shell, [string[]] $Arguments) {
        Push-Location -LiteralPath $clone
        try { $output = & $Shell @Arguments 2>&1 }
        finally { Pop-Location }
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = (($output | Out-String) -replace '\x1b\[[0-9;]*m', '') }
    }

    function Assert-DemoRan($Run) {
        $Run.ExitCode | Should -Be 0 -Because $Run.Output
        $Run.Output | Should -Match '\[1/9\] Start PostgreSQL\s+a throwaway PostgreSQL server on 127\.0\.0\.1:\d+, its data in '
        $Run.Output | Should -Match 'node1\.demo: its /etc/rstudio in .*its rserver a listener on 127\.0\.0\.1:\d+'
        $Run.Output | Should -Match 'four sessions for user1, placed by the sessions method \(2 on node1\.demo:8787, 2 on node2\.demo:8787\)'
        $Run.Output | Should -Match 'node1\.demo:8787 -  Load: '
        $Run.Output | Should -Match '\[9/9\] Clean up\s+stopped the two rserver listeners and PostgreSQL, removed '
        $Run.Output | Should -Match 'Done in \d+\.\d s: two nodes registered, four sessions spread over them, nothing left behind\.'
        $Run.Output | Should -Not -CMatch '(?m)^WARNING:|left behind:'
    }
}

AfterAll {
    if ($clone) { Remove-Item -LiteralPath (Split-Path $clone -Parent) -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'the README''s first code block' -Tag 'Newcomer' {
    It 'holds two commands: the bootstrap with the demo, the bootstrap with every test' {
        $commands.Count | Should -Be 2 -Because ($commands -join "`n")
        $commands[0] | Should -Be './bootstrap.sh && pwsh -NoProfile -File ./build.ps1 -Task Package,Demo'
        $commands[1] | Should -Be './bootstrap.sh && ./test.sh'
    }

    It 'is what .ci/run calls: its one command is the README''s test command, verbatim' {
        $run = @(Get-Content -LiteralPath (Join-Path $repo '.ci' 'run') | Where-Object { $_ -notmatch '^\s*(#|$|set |cd )' })
        $run | Should -Be @($commands[1])
    }

    It 'the bootstrap says nothing and succeeds where everything is installed' {
        if ($cloneSkip) { Set-ItResult -Skipped -Because $cloneSkip; return }
        $output = & bash (Join-Path $repo 'bootstrap.sh') 2>&1
        $LASTEXITCODE | Should -Be 0
        $output | Should -BeNullOrEmpty
    }
}

Describe 'a fresh clone' -Tag 'Newcomer' {
    BeforeAll {
        if (-not $cloneSkip) {
            $script:clone = Join-Path ([IO.Directory]::CreateTempSubdirectory('wbadmin-newcomer-').FullName) 'WorkbenchAdmin'
            & git clone -q $repo $clone 2>&1 | Out-Null
            if ($LASTEXITCODE -ne 0) { throw "git clone $repo failed" }
        }
    }

    It 'runs the README''s first command from bash: set-up, build, a demo that says what it did, and clean-up' {
        if ($cloneSkip) { Set-ItResult -Skipped -Because $cloneSkip; return }
        $run = Invoke-InClone bash '-c', $commands[0]
        Assert-DemoRan $run
        $run.Output | Should -Match '(?m)^==> Package' -Because 'the bootstrap found everything and printed nothing before the build'
        ($run.Output -split "`n" | Where-Object { $_.Trim() } | Select-Object -First 1) | Should -Be '==> Package'
    }

    It 'runs the same command from pwsh' {
        if ($cloneSkip) { Set-ItResult -Skipped -Because $cloneSkip; return }
        Assert-DemoRan (Invoke-InClone pwsh '-NoProfile', '-NonInteractive', '-Command', $commands[0])
    }
}
